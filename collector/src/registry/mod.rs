//! The registry of filed sites and accounts (备案) and the exemptions granted on findings, and
//! what comparing them with what agents observe finds:
//! - observed but not filed → 漏报 (`not_filed`), the seed notice's 河源市社会保险基金管理局;
//! - filed as closed (or closing) but still live → 未及时履行关停注销程序 (`closed_but_live`);
//! - filed and running but inspected by no agent → `unmonitored`.
//!
//! CSV is how the central office keeps the registry (Excel): columns 名称, 平台, 责任单位, 县区,
//! 备案日期, 状态 (English headers work too). Export is UTF-8 with a BOM so Excel opens it;
//! import also takes GBK, what Excel saves on Chinese Windows. An import with any bad row
//! changes nothing and names every bad row. Pure; storage is `store::filings`.
//!
//! `filing.rs` (what is filed), `decisions.rs` (exemptions, silences, revocations,
//! retirements), `assess.rs` (filed vs observed), `csv.rs` (the spreadsheet in and out).

mod assess;
mod csv;
mod decisions;
mod filing;
mod matching;

pub use assess::{Assessment, Standing, problems};
pub(crate) use csv::quote as csv_cell;
pub use csv::{Imported, from_csv, read_csv, to_csv};
pub use decisions::{
    Exemption, ExemptionDraft, MAX_SILENCE, Matcher, NewExemption, NewSilence, Retirement, Revocation, Silence,
    SilenceDraft, author_problem, scope_of,
};
pub use filing::{Channel, Filing, FilingStatus, UnitType};
pub use matching::{Index, Match, normalized_id, normalized_name};

/// What the central office has decided: the registry, exemptions, silences, revocations and
/// retirements.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub filings: Vec<Filing>,
    pub exemptions: Vec<Exemption>,
    pub silences: Vec<Silence>,
    pub revocations: Vec<Revocation>,
    pub retirements: Vec<Retirement>,
    /// Which load of the database this is: every change loads a new one (numbered in this
    /// process), so what was derived from an older one can tell.
    pub revision: u64,
    /// `[registry]`: which of the notice's rules apply (from the configuration, not the
    /// database; kept across reloads).
    pub rules: xunjian_shared::config::collector::RegistryConfig,
}
