//! Practice-change events: every write to the practice (Enterprise API, inbound
//! HL7, control API) is announced here, and the outbound HL7 sender turns them
//! into feeds. A broadcast channel: slow subscribers see `Lagged`, writers never wait.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A patient was registered (ADT^A04).
    PatientRegistered,
    /// A patient's demographics changed (ADT^A08).
    PatientUpdated,
    /// An appointment was booked (SIU^S12).
    AppointmentBooked,
    /// An appointment was rescheduled (SIU^S13).
    AppointmentRescheduled,
    /// An appointment was modified (SIU^S14).
    AppointmentModified,
    /// An appointment was cancelled (SIU^S15).
    AppointmentCancelled,
    /// Results were added (ORU^R01).
    ResultsAdded,
    /// An immunization was recorded (VXU^V04).
    ImmunizationAdded,
    /// An order was placed (ORM^O01).
    OrderPlaced,
    /// A charge entered the holding tank (DFT^P03).
    ChargePending,
    /// A Part 2 consent was granted or revoked.
    ConsentChanged,
}

/// One practice change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeChange {
    /// What changed.
    pub kind: ChangeKind,
    /// The patient's person id (GUID).
    pub patient_id: String,
    /// The record created or changed, when it is not the patient itself.
    pub record_id: Option<String>,
    /// Where the change came from: `enterprise`, `mllp-in`, `control`, `script`.
    pub origin: String,
}

/// The event bus.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<PracticeChange>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(4096).0,
        }
    }
}

impl Events {
    /// Announce a change (a no-op when nobody listens).
    pub fn publish(&self, change: PracticeChange) {
        let _ = self.tx.send(change);
    }

    /// Listen to changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PracticeChange> {
        self.tx.subscribe()
    }
}
