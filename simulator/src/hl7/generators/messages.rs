//! NextGen-shaped messages built from a [`MessageContext`].
//!
//! NextGen shapes: PID-2 is the 12-digit person number, PID-3 is
//! `<mrn>^^^NextGen^MRN`, MSH-15/16 are `AL|AL`. The same MRN CX repeats in
//! GT1-2 and IN1-49.
//!
//! # The `ZPI` segment
//!
//! NextGen's ZPI is not publicly defined; this is ngsim's definition for
//! patient-level FQHC data:
//!
//! | Field | Content |
//! |---|---|
//! | ZPI-1 | Set id, `1` |
//! | ZPI-2 | Sliding-fee class (e.g. `A`–`D`, `FULL`); empty when none |
//! | ZPI-3 | Program codes, repeating (e.g. `340B~HCH`) |
//! | ZPI-4 | Income as a percentage of the federal poverty level (UDS) |
//! | ZPI-5 | Family size (UDS) |
//! | ZPI-6 | Homeless status (UDS: `N`, `SHELTER`, `STREET`, `DOUBLED_UP`) |
//! | ZPI-7 | Agricultural worker status (UDS: `N`, `MIGRANT`, `SEASONAL`) |
//! | ZPI-8 | Veteran status (`Y`/`N`) |
//! | ZPI-9 | Preferred language (ISO 639-2, e.g. `eng`) |

use std::str::FromStr;

use super::super::build::{MessageBuilder, SegmentBuilder};
use super::context::{MessageContext, Provider, Version};

/// The message types the generators produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// ADT^A01 admit/visit notification.
    AdtA01,
    /// ADT^A04 register a patient.
    AdtA04,
    /// ADT^A08 update patient information.
    AdtA08,
    /// ORM^O01 order.
    OrmO01,
    /// ORU^R01 results.
    OruR01,
    /// SIU^S12 new appointment.
    SiuS12,
    /// SIU^S13 rescheduled.
    SiuS13,
    /// SIU^S14 modified.
    SiuS14,
    /// SIU^S15 cancelled.
    SiuS15,
    /// VXU^V04 vaccination update.
    VxuV04,
    /// DFT^P03 charges.
    DftP03,
}

impl MessageType {
    /// Every type.
    pub const ALL: [Self; 11] = [
        Self::AdtA01,
        Self::AdtA04,
        Self::AdtA08,
        Self::OrmO01,
        Self::OruR01,
        Self::SiuS12,
        Self::SiuS13,
        Self::SiuS14,
        Self::SiuS15,
        Self::VxuV04,
        Self::DftP03,
    ];

    /// `(MSH-9.1, MSH-9.2, MSH-9.3)`.
    pub fn code(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::AdtA01 => ("ADT", "A01", "ADT_A01"),
            Self::AdtA04 => ("ADT", "A04", "ADT_A01"),
            Self::AdtA08 => ("ADT", "A08", "ADT_A01"),
            Self::OrmO01 => ("ORM", "O01", "ORM_O01"),
            Self::OruR01 => ("ORU", "R01", "ORU_R01"),
            Self::SiuS12 => ("SIU", "S12", "SIU_S12"),
            Self::SiuS13 => ("SIU", "S13", "SIU_S12"),
            Self::SiuS14 => ("SIU", "S14", "SIU_S12"),
            Self::SiuS15 => ("SIU", "S15", "SIU_S12"),
            Self::VxuV04 => ("VXU", "V04", "VXU_V04"),
            Self::DftP03 => ("DFT", "P03", "DFT_P03"),
        }
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (t, e, _) = self.code();
        write!(f, "{t}^{e}")
    }
}

impl FromStr for MessageType {
    type Err = String;
    /// Accepts `ADT^A04`, `ADT_A04` or `adt-a04`.
    fn from_str(s: &str) -> Result<Self, String> {
        let norm: String = s
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Self::ALL
            .into_iter()
            .find(|t| {
                let (a, b, _) = t.code();
                norm == format!("{a}{b}")
            })
            .ok_or_else(|| format!("unknown message type {s:?} (expected e.g. ADT^A04)"))
    }
}

/// Builds a segment from static field paths and plain values.
fn seg(id: &str, values: &[(&str, &str)]) -> SegmentBuilder {
    let mut s = SegmentBuilder::new(id).expect("static segment id");
    for (spec, value) in values {
        if !value.is_empty() {
            s = s.set(spec, value).expect("static field path");
        }
    }
    s
}

fn xcn(p: &Provider, prefix: &str) -> [(String, String); 3] {
    [
        (format!("{prefix}.1"), p.id.clone()),
        (format!("{prefix}.2"), p.family.clone()),
        (format!("{prefix}.3"), p.given.clone()),
    ]
}

fn with(mut s: SegmentBuilder, values: &[(String, String)]) -> SegmentBuilder {
    for (spec, value) in values {
        s = s.set(spec, value).expect("generated field path");
    }
    s
}

fn msh(b: &mut MessageBuilder, kind: MessageType, ctx: &MessageContext) {
    let version = ctx.version.unwrap_or(Version::V23);
    let (t, e, structure) = kind.code();
    let structure = if version == Version::V23 {
        ""
    } else {
        structure
    };
    for (path, value) in [
        ("MSH-3", ctx.sending_app.as_str()),
        ("MSH-4", &ctx.sending_facility),
        ("MSH-5", &ctx.receiving_app),
        ("MSH-6", &ctx.receiving_facility),
        ("MSH-7", &ctx.timestamp),
        ("MSH-9.1", t),
        ("MSH-9.2", e),
        ("MSH-10", &ctx.control_id),
        ("MSH-11", "P"),
        ("MSH-12", version.as_str()),
        ("MSH-15", "AL"),
        ("MSH-16", "AL"),
    ] {
        b.set(path, value).expect("static MSH path");
    }
    if !structure.is_empty() {
        b.set("MSH-9.3", structure).expect("static MSH path");
    }
}

fn pid(ctx: &MessageContext) -> SegmentBuilder {
    let p = &ctx.patient;
    seg(
        "PID",
        &[
            ("1", "1"),
            ("2", &p.person_number),
            ("3.1", &p.mrn),
            ("3.4", "NextGen"),
            ("3.5", "MRN"),
            ("5.1", &p.family),
            ("5.2", &p.given),
            ("5.3", &p.middle),
            ("7", &p.dob),
            ("8", &p.sex),
            ("11.1", &p.address.street),
            ("11.3", &p.address.city),
            ("11.4", &p.address.state),
            ("11.5", &p.address.zip),
            ("11.6", "USA"),
            ("11.7", "H"),
            ("13.1", &p.phone),
            ("13.2", "PRN"),
            ("13.3", "PH"),
            ("10.1", "2106-3"),
            ("10.2", "White"),
            ("10.3", "CDCREC"),
            ("15.1", &p.uds.language),
            ("15.3", "ISO6392"),
            ("16", "S"),
            ("18", &ctx.encounter.visit_number),
            ("22.1", "2186-5"),
            ("22.2", "Not Hispanic or Latino"),
            ("22.3", "CDCREC"),
        ],
    )
}

fn nk1_al1(b: &mut MessageBuilder, ctx: &MessageContext) {
    let c = &ctx.coverage;
    let a = &ctx.patient.address;
    b.push(seg(
        "NK1",
        &[
            ("1", "1"),
            ("2.1", &c.guarantor_family),
            ("2.2", "Alex"),
            ("3.1", "SPO"),
            ("3.2", "Spouse"),
            ("3.3", "HL70063"),
            ("4.1", &a.street),
            ("4.3", &a.city),
            ("4.4", &a.state),
            ("4.5", &a.zip),
            ("5", &ctx.patient.phone),
            ("7.1", "EC"),
            ("7.2", "Emergency Contact"),
        ],
    ));
    for (i, (code, text)) in [("70618", "Penicillin"), ("1191", "Aspirin & NSAIDs")]
        .iter()
        .enumerate()
    {
        let n = (i + 1).to_string();
        b.push(seg(
            "AL1",
            &[
                ("1", &n),
                ("2", "DA"),
                ("3.1", code),
                ("3.2", text),
                ("3.3", "RXNORM"),
                ("4", "MO"),
                ("5", "Hives ^ rash"),
            ],
        ));
    }
}

fn pv1(ctx: &MessageContext) -> SegmentBuilder {
    let e = &ctx.encounter;
    let s = seg(
        "PV1",
        &[
            ("1", "1"),
            ("2", &e.patient_class),
            ("3.1", &e.location),
            ("19", &e.visit_number),
            ("44", &e.admit_time),
        ],
    );
    with(s, &xcn(&e.attending, "7"))
}

fn mrn_cx(s: SegmentBuilder, field: usize, ctx: &MessageContext) -> SegmentBuilder {
    let values = [
        (format!("{field}.1"), ctx.patient.mrn.clone()),
        (format!("{field}.4"), "NextGen".to_owned()),
        (format!("{field}.5"), "MRN".to_owned()),
    ];
    with(s, &values)
}

fn in1_gt1(b: &mut MessageBuilder, ctx: &MessageContext) {
    let c = &ctx.coverage;
    let a = &ctx.patient.address;
    let gt1 = seg(
        "GT1",
        &[
            ("1", "1"),
            ("3.1", &c.guarantor_family),
            ("3.2", &c.guarantor_given),
            ("5.1", &a.street),
            ("5.3", &a.city),
            ("5.4", &a.state),
            ("5.5", &a.zip),
            ("6", &ctx.patient.phone),
            ("11", "SEL"),
        ],
    );
    b.push(mrn_cx(gt1, 2, ctx));
    let in1 = seg(
        "IN1",
        &[
            ("1", "1"),
            ("2", &c.plan_id),
            ("4", &c.company),
            ("8", &c.group),
            ("16.1", &c.guarantor_family),
            ("16.2", &c.guarantor_given),
            ("17", "SEL"),
            ("36", &c.member_id),
        ],
    );
    b.push(mrn_cx(in1, 49, ctx));
}

fn zpi(ctx: &MessageContext) -> SegmentBuilder {
    let p = &ctx.patient;
    let num = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    let (fpl, size) = (num(p.uds.percent_fpl), num(p.uds.family_size));
    let mut s = seg(
        "ZPI",
        &[
            ("1", "1"),
            ("2", p.sliding_fee_class.as_deref().unwrap_or_default()),
            ("4", &fpl),
            ("5", &size),
            ("6", &p.uds.homeless),
            ("7", &p.uds.agricultural_worker),
            ("8", &p.uds.veteran),
            ("9", &p.uds.language),
        ],
    );
    for (i, code) in p.program_codes.iter().enumerate() {
        s = s
            .set(&format!("3[{}]", i + 1), code)
            .expect("generated path");
    }
    s
}

fn notes(b: &mut MessageBuilder, ctx: &MessageContext) {
    for (i, note) in ctx.notes.iter().enumerate() {
        let n = (i + 1).to_string();
        b.push(seg("NTE", &[("1", &n), ("2", "L"), ("3", note)]));
    }
}

fn order(b: &mut MessageBuilder, ctx: &MessageContext, control: &str) {
    let o = &ctx.order;
    let orc = seg(
        "ORC",
        &[
            ("1", control),
            ("2", &o.placer),
            ("3", &o.filler),
            ("5", "CM"),
            ("9", &ctx.timestamp),
        ],
    );
    b.push(with(orc, &xcn(&o.ordering, "12")));
    let obr = seg(
        "OBR",
        &[
            ("1", "1"),
            ("2", &o.placer),
            ("3", &o.filler),
            ("4.1", &o.service_code),
            ("4.2", &o.service_text),
            ("4.3", "C4"),
            ("7", &ctx.timestamp),
            ("22", &ctx.timestamp),
            ("25", "F"),
        ],
    );
    b.push(with(obr, &xcn(&o.ordering, "16")));
}

fn observations(b: &mut MessageBuilder, ctx: &MessageContext) {
    for (i, o) in ctx.observations.iter().enumerate() {
        let n = (i + 1).to_string();
        b.push(seg(
            "OBX",
            &[
                ("1", &n),
                ("2", &o.value_type),
                ("3.1", &o.code),
                ("3.2", &o.text),
                ("3.3", &o.system),
                ("5", &o.value),
                ("6", &o.units),
                ("7", &o.range),
                ("8", &o.flag),
                ("11", "F"),
                ("14", &ctx.timestamp),
                ("15.1", "SRL"),
                ("15.2", "Synthetic Reference Lab"),
                ("15.3", "CLIA"),
                ("17.1", "PLT"),
                ("17.2", "Photometric"),
                ("19", &ctx.timestamp),
                ("23.1", "Synthetic Reference Lab"),
                ("23.6.1", "CLIA"),
                ("23.10", "05D0000000"),
                ("24.1", "100 Lab Way"),
                ("24.3", "Springfield"),
                ("24.4", "IL"),
                ("24.5", "62704"),
            ],
        ));
    }
}

fn schedule(b: &mut MessageBuilder, kind: MessageType, ctx: &MessageContext) {
    let a = &ctx.appointment;
    let minutes = a.minutes.to_string();
    let status = if kind == MessageType::SiuS15 {
        "Cancelled"
    } else {
        "Booked"
    };
    let sch = seg(
        "SCH",
        &[
            ("1", &a.id),
            ("2", &a.id),
            ("7.2", &a.reason),
            ("9", &minutes),
            ("10", "MIN"),
            ("11.3", &minutes),
            ("11.4", &a.start),
            ("25", status),
        ],
    );
    b.push(sch);
    b.push(pid(ctx));
    b.push(pv1(ctx));
    b.push(seg("RGS", &[("1", "1")]));
    b.push(seg(
        "AIS",
        &[
            ("1", "1"),
            ("3.2", &a.reason),
            ("4", &a.start),
            ("7", &minutes),
        ],
    ));
    b.push(with(
        seg("AIG", &[("1", "1")]),
        &xcn(&ctx.encounter.attending, "3"),
    ));
    b.push(seg(
        "AIL",
        &[("1", "1"), ("3.1", &a.location), ("6", &a.start)],
    ));
}

fn vaccinations(b: &mut MessageBuilder, ctx: &MessageContext) {
    for (i, v) in ctx.immunizations.iter().enumerate() {
        b.push(seg("ORC", &[("1", "RE"), ("3", &format!("IZ{}", i + 1))]));
        b.push(seg(
            "RXA",
            &[
                ("1", "0"),
                ("2", "1"),
                ("3", &v.date),
                ("4", &v.date),
                ("5.1", &v.cvx),
                ("5.2", &v.name),
                ("5.3", "CVX"),
                ("6", &v.dose),
                ("7", "mL"),
                ("15", &v.lot),
                ("17.1", &v.manufacturer),
                ("17.3", "MVX"),
                ("20", "CP"),
            ],
        ));
        b.push(seg(
            "RXR",
            &[("1.1", "C28161"), ("1.2", "Intramuscular"), ("1.3", "NCIT")],
        ));
        let vis = [
            (
                "CE",
                "64994-7",
                "Vaccine funding program eligibility category",
                "V01^Not VFC eligible^HL70064",
            ),
            (
                "TS",
                "29768-9",
                "Date vaccine information statement published",
                "20230512",
            ),
            (
                "TS",
                "29769-7",
                "Date vaccine information statement presented",
                &v.date,
            ),
        ];
        for (j, (vt, code, text, value)) in vis.iter().enumerate() {
            let n = (j + 1).to_string();
            b.push(seg(
                "OBX",
                &[
                    ("1", &n),
                    ("2", vt),
                    ("3.1", code),
                    ("3.2", text),
                    ("3.3", "LN"),
                    ("4", "1"),
                    ("5", value),
                    ("11", "F"),
                    ("14", &v.date),
                ],
            ));
        }
    }
}

fn charges(b: &mut MessageBuilder, ctx: &MessageContext) {
    for (i, c) in ctx.charges.iter().enumerate() {
        let n = (i + 1).to_string();
        let units = c.units.to_string();
        b.push(seg(
            "FT1",
            &[
                ("1", &n),
                ("4", &c.date),
                ("6", "CG"),
                ("7.1", &c.cpt),
                ("7.2", &c.description),
                ("7.3", "CPT"),
                ("10", &units),
                ("11", &c.amount),
                ("19.1", &c.diagnosis),
                ("19.3", "I10"),
                ("13.1", "FIN"),
                ("16.1", &ctx.encounter.location),
                ("20.1", &ctx.encounter.attending.id),
                ("20.2", &ctx.encounter.attending.family),
                ("21.1", &ctx.order.ordering.id),
                ("22", &c.amount),
                ("25.1", &c.cpt),
                ("25.2", &c.description),
                ("25.3", "CPT"),
            ],
        ));
    }
    for (i, c) in ctx.charges.iter().enumerate().take(1) {
        let n = (i + 1).to_string();
        b.push(seg(
            "DG1",
            &[("1", &n), ("3.1", &c.diagnosis), ("3.3", "I10"), ("6", "F")],
        ));
    }
}

/// Builds a message of the given type from the context.
pub fn generate(kind: MessageType, ctx: &MessageContext) -> MessageBuilder {
    use MessageType as T;
    let mut b = MessageBuilder::new();
    msh(&mut b, kind, ctx);
    let (_, event, _) = kind.code();
    let evn = seg("EVN", &[("1", event), ("2", &ctx.timestamp)]);
    match kind {
        T::AdtA01 | T::AdtA04 | T::AdtA08 => {
            b.push(evn);
            b.push(pid(ctx));
            b.push(pv1(ctx));
            nk1_al1(&mut b, ctx);
            in1_gt1(&mut b, ctx);
            b.push(zpi(ctx));
            notes(&mut b, ctx);
        }
        T::OrmO01 => {
            b.push(pid(ctx));
            b.push(pv1(ctx));
            order(&mut b, ctx, "NW");
            notes(&mut b, ctx);
        }
        T::OruR01 => {
            b.push(pid(ctx));
            b.push(pv1(ctx));
            order(&mut b, ctx, "RE");
            observations(&mut b, ctx);
            notes(&mut b, ctx);
        }
        T::SiuS12 | T::SiuS13 | T::SiuS14 | T::SiuS15 => {
            schedule(&mut b, kind, ctx);
            notes(&mut b, ctx);
        }
        T::VxuV04 => {
            b.push(pid(ctx));
            b.push(pv1(ctx));
            nk1_al1(&mut b, ctx);
            vaccinations(&mut b, ctx);
        }
        T::DftP03 => {
            b.push(evn);
            b.push(pid(ctx));
            b.push(pv1(ctx));
            charges(&mut b, ctx);
            in1_gt1(&mut b, ctx);
            b.push(zpi(ctx));
            notes(&mut b, ctx);
        }
    }
    b
}
