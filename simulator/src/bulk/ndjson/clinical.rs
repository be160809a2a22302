//! Typed NDJSON writers for the problem-list, medication, allergy,
//! immunization and lab-order types (see the parent module for the rules:
//! fields in byte order of their JSON names, bytes equal to `render::*`).

use time::OffsetDateTime;

use crate::practice::Chart;

/// [`super::each_record`] for its types; `false` for any other type.
#[allow(clippy::match_single_binding)] // until its first writer lands
pub(super) fn each_record(_c: &Chart, ty: &str, _f: &mut impl FnMut(OffsetDateTime, bool)) -> bool {
    match ty {
        _ => false,
    }
}

/// [`super::write_lines`] for its types; `false` for any other type.
#[allow(clippy::match_single_binding)] // until its first writer lands
pub(super) fn write_lines(
    _out: &mut Vec<u8>,
    _ends: &mut Vec<usize>,
    _c: &Chart,
    ty: &str,
    _keep: &impl Fn(OffsetDateTime, bool) -> bool,
) -> bool {
    match ty {
        _ => false,
    }
}
