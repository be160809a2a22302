//! Which of a chart's record lists to build.
//!
//! A consumer of one resource type (a Bulk file, say) needs one list of the
//! chart, and building the others is most of the work of generating it. The
//! generator makes the same random draws and assigns the same ordinals
//! whatever is left out, so every list that is built equals the full
//! chart's, record for record; a left-out list is empty.

/// One record list of a [`Chart`](super::Chart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Encounters,
    Conditions,
    Medications,
    Allergies,
    Observations,
    LabPanels,
    Immunizations,
    Procedures,
    Documents,
    Appointments,
    /// The charges, and the account balance computed from them.
    Charges,
    Coverages,
    CarePlans,
    CareTeam,
    Goals,
    Devices,
    Consent,
}

impl List {
    pub const ALL: [List; 17] = [
        List::Encounters,
        List::Conditions,
        List::Medications,
        List::Allergies,
        List::Observations,
        List::LabPanels,
        List::Immunizations,
        List::Procedures,
        List::Documents,
        List::Appointments,
        List::Charges,
        List::Coverages,
        List::CarePlans,
        List::CareTeam,
        List::Goals,
        List::Devices,
        List::Consent,
    ];

    /// The name of the chart's field holding this list.
    pub const fn field(self) -> &'static str {
        match self {
            List::Encounters => "encounters",
            List::Conditions => "conditions",
            List::Medications => "medications",
            List::Allergies => "allergies",
            List::Observations => "observations",
            List::LabPanels => "lab_panels",
            List::Immunizations => "immunizations",
            List::Procedures => "procedures",
            List::Documents => "documents",
            List::Appointments => "appointments",
            List::Charges => "charges",
            List::Coverages => "coverages",
            List::CarePlans => "care_plans",
            List::CareTeam => "care_team",
            List::Goals => "goals",
            List::Devices => "devices",
            List::Consent => "consent",
        }
    }

    const fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// A set of [`List`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartParts(u32);

impl ChartParts {
    /// Every list: the chart [`Practice::chart`](super::Practice::chart) returns.
    pub const FULL: ChartParts = ChartParts((1 << List::ALL.len()) - 1);
    /// No list: the demographics alone.
    pub const NONE: ChartParts = ChartParts(0);
    pub const WITHOUT_OBSERVATIONS: ChartParts = ChartParts::FULL.without(List::Observations);

    pub const fn with(self, l: List) -> ChartParts {
        ChartParts(self.0 | l.bit())
    }

    pub const fn without(self, l: List) -> ChartParts {
        ChartParts(self.0 & !l.bit())
    }

    pub const fn union(self, other: ChartParts) -> ChartParts {
        ChartParts(self.0 | other.0)
    }

    pub const fn has(self, l: List) -> bool {
        self.0 & l.bit() != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_was_added() {
        assert!(List::ALL.iter().all(|&l| ChartParts::FULL.has(l)));
        assert!(List::ALL.iter().all(|&l| !ChartParts::NONE.has(l)));
        let p = ChartParts::NONE.with(List::Goals).with(List::Consent);
        assert!(p.has(List::Goals) && p.has(List::Consent) && !p.has(List::Devices));
        assert_eq!(
            p.without(List::Goals).without(List::Consent),
            ChartParts::NONE
        );
        assert_eq!(
            ChartParts::WITHOUT_OBSERVATIONS.with(List::Observations),
            ChartParts::FULL
        );
        assert!(!ChartParts::WITHOUT_OBSERVATIONS.has(List::Observations));
        assert_eq!(
            ChartParts::NONE
                .with(List::Goals)
                .union(ChartParts::NONE.with(List::Devices)),
            ChartParts::NONE.with(List::Devices).with(List::Goals)
        );
        // One distinct field per list.
        let mut fields: Vec<_> = List::ALL.iter().map(|l| l.field()).collect();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), List::ALL.len());
    }
}
