//! `xunjian-collector registry …` and `exemption …`: the central office's changes, made on the
//! database directly (the collector may be running; it picks them up within seconds).

use std::path::Path;

use jiff::Timestamp;
use xunjian_shared::time::china_today;

use crate::registry;
use crate::registry::{ExemptionDraft, NewExemption, NewSilence, SilenceDraft};
use crate::store::StoreError;
use crate::store::filings::{self, ChangeError, ChangeOutcome, RegistryChange};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The user's input was refused; every line says what to fix.
    #[error("{}", .0.join("\n"))]
    Refused(Vec<String>),
    /// The database could not be opened, read or written.
    #[error(transparent)]
    Failed(#[from] StoreError),
}

impl From<ChangeError> for AdminError {
    fn from(error: ChangeError) -> Self {
        match error {
            ChangeError::Refused(message) | ChangeError::NotFound(message) => AdminError::Refused(vec![message]),
            ChangeError::Store(error) => AdminError::Failed(error),
        }
    }
}

fn open(database: &Path) -> Result<rusqlite::Connection, AdminError> {
    filings::open_connection(database).map_err(AdminError::Failed)
}

/// Replaces the registry with `file`'s rows; nothing changes unless every row is good.
pub fn import(database: &Path, file: &Path, author: &str) -> Result<(), AdminError> {
    let bytes = std::fs::read(file)
        .map_err(|error| AdminError::Refused(vec![format!("无法读取 {}：{error}", file.display())]))?;
    let imported = registry::read_csv(&bytes).map_err(|problems| {
        let mut lines = vec![format!("{} 有 {} 处错误，备案表未作任何修改：", file.display(), problems.len())];
        lines.extend(problems.into_iter().map(|p| format!("  {p}")));
        AdminError::Refused(lines)
    })?;
    if !imported.ignored_columns.is_empty() {
        println!("以下列不是备案表的列，已忽略：{}", imported.ignored_columns.join("、"));
    }
    let mut connection = open(database)?;
    let outcome = filings::apply(
        &mut connection,
        RegistryChange::ReplaceFilings { filings: imported.filings, author: author.to_string() },
        Timestamp::now(),
    )?;
    if let ChangeOutcome::Filings { total, added, removed, changed } = outcome {
        println!("已导入备案 {total} 条：新增 {added}，删除 {removed}，变更 {changed}");
    }
    Ok(())
}

/// Writes the registry as CSV (UTF-8 with BOM) to `file`, or to standard output.
pub fn export(database: &Path, file: Option<&Path>) -> Result<(), AdminError> {
    let connection = open(database)?;
    let registry = filings::load(&connection).map_err(AdminError::Failed)?;
    let csv = registry::to_csv(&registry.filings);
    match file {
        Some(file) => {
            std::fs::write(file, csv)
                .map_err(|error| AdminError::Refused(vec![format!("无法写入 {}：{error}", file.display())]))?;
            eprintln!("已导出备案 {} 条到 {}", registry.filings.len(), file.display());
        }
        None => print!("{csv}"),
    }
    Ok(())
}

pub fn exempt(database: &Path, new: NewExemption) -> Result<(), AdminError> {
    let draft = ExemptionDraft::parse(new).map_err(AdminError::Refused)?;
    let mut connection = open(database)?;
    if let ChangeOutcome::ExemptionAdded { id } =
        filings::apply(&mut connection, RegistryChange::AddExemption(draft), Timestamp::now())?
    {
        println!("已添加豁免 #{id}；撤销：xunjian-collector exemption revoke {id} --author <姓名>");
    }
    Ok(())
}

pub fn revoke(database: &Path, id: i64, author: &str) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    filings::apply(
        &mut connection,
        RegistryChange::RevokeExemption { id, author: author.to_string() },
        Timestamp::now(),
    )?;
    println!("已撤销豁免 #{id}（记录保留）");
    Ok(())
}

pub fn exemptions(database: &Path) -> Result<(), AdminError> {
    let connection = open(database)?;
    let registry = filings::load(&connection).map_err(AdminError::Failed)?;
    let today = china_today(Timestamp::now());
    if registry.exemptions.is_empty() {
        println!("没有豁免");
    }
    for e in &registry.exemptions {
        let scope = if e.column.is_empty() { String::new() } else { format!("「{}」", e.column) };
        let state = match (&e.revoked_by, e.is_active(today)) {
            (Some(by), _) => format!("已由 {by} 撤销"),
            (None, true) => "生效".to_string(),
            (None, false) => "已过期".to_string(),
        };
        let until = e.until.map(|d| format!("，至 {d}")).unwrap_or_default();
        println!(
            "#{} [{state}] {}{scope} {}：{}（{}，{}{until}）",
            e.id,
            e.target,
            e.code.as_str(),
            e.reason,
            e.author,
            e.created_at
        );
    }
    Ok(())
}

pub fn silence(database: &Path, new: NewSilence) -> Result<(), AdminError> {
    let draft = SilenceDraft::parse(new).map_err(AdminError::Refused)?;
    let mut connection = open(database)?;
    if let ChangeOutcome::SilenceAdded { id, ends_at } =
        filings::apply(&mut connection, RegistryChange::AddSilence(draft), Timestamp::now())?
    {
        println!(
            "已添加静默 #{id}，至 {}；提前解除：xunjian-collector silence expire {id} --author <姓名>",
            xunjian_shared::time::china_time(ends_at)
        );
    }
    Ok(())
}

pub fn expire_silence(database: &Path, id: i64, author: &str) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    filings::apply(
        &mut connection,
        RegistryChange::ExpireSilence { id, author: author.to_string() },
        Timestamp::now(),
    )?;
    println!("已解除静默 #{id}（记录保留）");
    Ok(())
}

pub fn silences(database: &Path) -> Result<(), AdminError> {
    let connection = open(database)?;
    let registry = filings::load(&connection).map_err(AdminError::Failed)?;
    let now = Timestamp::now();
    if registry.silences.is_empty() {
        println!("没有静默");
    }
    for s in &registry.silences {
        let state = match (&s.expired_by, s.is_active(now)) {
            (Some(by), _) => format!("已由 {by} 解除"),
            (None, true) => "生效".to_string(),
            (None, false) if s.starts_at > now => "未开始".to_string(),
            (None, false) => "已到期".to_string(),
        };
        let matchers: Vec<String> = s.matchers.iter().map(|m| m.to_string()).collect();
        println!(
            "#{} [{state}] {} 至 {}：{}（{}）",
            s.id,
            matchers.join(" "),
            xunjian_shared::time::china_time(s.ends_at),
            s.reason,
            s.author
        );
    }
    Ok(())
}

pub fn revoke_agent(
    database: &Path,
    agent: String,
    serial: String,
    reason: String,
    author: String,
) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    if let ChangeOutcome::Revoked { id } =
        filings::apply(&mut connection, RegistryChange::Revoke { agent, serial, reason, author }, Timestamp::now())?
    {
        println!(
            "已吊销 #{id}：运行中的采集端在 2 秒内拒收其推送；解除：xunjian-collector agent unrevoke {id} --author <姓名>"
        );
    }
    Ok(())
}

pub fn lift_revocation(database: &Path, id: i64, author: &str) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    filings::apply(
        &mut connection,
        RegistryChange::LiftRevocation { id, author: author.to_string() },
        Timestamp::now(),
    )?;
    println!("已解除吊销 #{id}（记录保留）");
    Ok(())
}

pub fn revocations(database: &Path) -> Result<(), AdminError> {
    let connection = open(database)?;
    let registry = filings::load(&connection).map_err(AdminError::Failed)?;
    if registry.revocations.is_empty() {
        println!("没有吊销记录");
    }
    for r in &registry.revocations {
        let state = match &r.lifted_by {
            Some(by) => format!("已由 {by} 解除"),
            None => "生效".to_string(),
        };
        let agent = if r.agent.is_empty() { "任意" } else { r.agent.as_str() };
        let serial = if r.serial.is_empty() { "任意" } else { r.serial.as_str() };
        println!("#{} [{state}] 采集代理 {agent}，证书序列号 {serial}：{}（{}）", r.id, r.reason, r.author);
    }
    Ok(())
}

/// Retires `agent`: the running collector forgets it and releases its subjects within seconds.
pub fn retire_agent(database: &Path, agent: String, reason: String, author: String) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    let shown = agent.clone();
    if let ChangeOutcome::Retired { id } =
        filings::apply(&mut connection, RegistryChange::Retire { agent, reason, author }, Timestamp::now())?
    {
        println!(
            "已退役 #{id}：采集端在 2 秒内删除采集代理 {shown} 的状态并释放其全部巡检对象，其他采集代理即可接管；\
             若其证书可能外泄，另行吊销：xunjian-collector agent --config collector.toml revoke --serial <序列号> --reason … --author …"
        );
    }
    Ok(())
}

pub fn log(database: &Path, limit: usize) -> Result<(), AdminError> {
    let connection = open(database)?;
    for entry in filings::audit_log(&connection, limit).map_err(AdminError::Failed)? {
        println!("{} {} {} {}", entry.at, entry.author, entry.action, entry.detail);
    }
    Ok(())
}

/// `user add`: the user, with the password read from `password` (a line of stdin) or a
/// throw-away one printed once.
pub fn add_user(
    database: &Path,
    new: (String, String, Vec<String>),
    password: Option<String>,
    author: &str,
) -> Result<(), AdminError> {
    let (name, role, counties) = new;
    let new = crate::people::NewUser::parse(&name, &role, &counties).map_err(AdminError::Refused)?;
    let (hash, shown) = password_to_store(&new.name, password)?;
    let mut connection = open(database)?;
    let unknown: Vec<&String> = new.counties.iter().filter(|c| !county_known(&connection, c)).collect();
    crate::store::users::add(&mut connection, &new, Some(&hash), author, Timestamp::now()).map_err(user_error)?;
    let scope = if new.counties.is_empty() { "全部县区".to_string() } else { new.counties.join("、") };
    println!("已添加用户 {}（{}，{scope}）", new.name, new.role.label_zh());
    if let Some(password) = shown {
        println!("初始密码（只显示这一次，请转交本人并提醒其修改）：{password}");
    }
    for county in unknown {
        eprintln!(
            "注意：数据库中还没有县区“{county}”的任何数据（采集代理、备案或历史）；请确认名称与采集代理配置中的一致"
        );
    }
    Ok(())
}

/// `user list`: names, roles, counties, state; never a hash or a token.
pub fn list_users(database: &Path) -> Result<(), AdminError> {
    let connection = open(database)?;
    let users = crate::store::users::list(&connection).map_err(AdminError::Failed)?;
    if users.is_empty() {
        println!("还没有用户：xunjian-collector user --config collector.toml add <用户名> --role admin");
    }
    for user in users {
        let scope = if user.counties.is_empty() { "全部县区".to_string() } else { user.counties.join("、") };
        let state = match user.disabled_at {
            Some(at) => format!("已停用（{}）", xunjian_shared::time::china_time(at)),
            None => "启用".to_string(),
        };
        println!(
            "{}\t{}（{}）\t{scope}\t{state}\t密码：{}\t令牌：{} 个\t{} 由 {} 添加",
            user.name,
            user.role.as_str(),
            user.role.label_zh(),
            if user.has_password { "已设置" } else { "未设置" },
            user.tokens,
            xunjian_shared::time::china_time(user.created_at),
            user.created_by
        );
    }
    Ok(())
}

/// `user disable` / `user enable`.
pub fn disable_user(database: &Path, name: &str, disabled: bool, author: &str) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    crate::store::users::set_disabled(&mut connection, name, disabled, author, Timestamp::now()).map_err(user_error)?;
    println!("{}用户 {name}", if disabled { "已停用" } else { "已启用" });
    Ok(())
}

/// `user passwd`: a new password from `password` (a line of stdin) or a throw-away one.
pub fn set_password(database: &Path, name: &str, password: Option<String>, author: &str) -> Result<(), AdminError> {
    let (hash, shown) = password_to_store(name, password)?;
    let mut connection = open(database)?;
    crate::store::users::set_password(&mut connection, name, &hash, author, Timestamp::now()).map_err(user_error)?;
    println!("已修改用户 {name} 的密码");
    if let Some(password) = shown {
        println!("新密码（只显示这一次）：{password}");
    }
    Ok(())
}

/// `user token`: a new personal API token, printed once.
pub fn add_token(database: &Path, name: &str, label: &str, author: &str) -> Result<(), AdminError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(AdminError::Refused(vec!["令牌用途（--label）应为 1–64 个字符，不含控制字符".to_string()]));
    }
    let (token, digest) = crate::people::generate_token().map_err(secret_failed)?;
    let mut connection = open(database)?;
    let id = crate::store::users::add_token(&mut connection, name, label, &digest, author, Timestamp::now())
        .map_err(user_error)?;
    println!("已为 {name} 生成令牌 #{id}（{label}），只显示这一次，请妥善保存：");
    println!("{token}");
    Ok(())
}

/// `user token-revoke`: one token stops working.
pub fn revoke_token(database: &Path, name: &str, id: i64, author: &str) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    crate::store::users::revoke_token(&mut connection, name, id, author, Timestamp::now()).map_err(user_error)?;
    println!("已撤销 {name} 的令牌 #{id}");
    Ok(())
}

/// The hash to store for `password`, checked, or for a throw-away one (returned to be shown once).
fn password_to_store(name: &str, password: Option<String>) -> Result<(String, Option<String>), AdminError> {
    let (password, shown) = match password {
        Some(password) => (password, false),
        None => (crate::people::generate_password().map_err(secret_failed)?, true),
    };
    crate::people::check_password(name, &password).map_err(|p| AdminError::Refused(vec![p]))?;
    let hash = crate::people::hash_password(&password).map_err(secret_failed)?;
    Ok((hash, shown.then_some(password)))
}

fn county_known(connection: &rusqlite::Connection, county: &str) -> bool {
    connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM agents WHERE county = ?1) OR EXISTS (SELECT 1 FROM filings WHERE county = ?1)
                 OR EXISTS (SELECT 1 FROM history_counties WHERE county = ?1)",
            [county],
            |row| row.get::<_, bool>(0),
        )
        .unwrap_or(false)
}

fn user_error(error: crate::store::users::UserError) -> AdminError {
    match error {
        crate::store::users::UserError::Refused(message) => AdminError::Refused(vec![message]),
        crate::store::users::UserError::Store(error) => AdminError::Failed(error),
    }
}

fn secret_failed(error: crate::people::SecretError) -> AdminError {
    AdminError::Refused(vec![format!("无法生成密码或令牌：{error}")])
}

/// `task add`: a 整改 task of these problems (open, of one county), due `deadline` (default: the
/// current quarter's 通报 deadline).
pub fn add_task(
    database: &Path,
    problems: &[i64],
    unit: Option<&str>,
    title: Option<&str>,
    deadline: Option<jiff::civil::Date>,
    settings: &crate::report::Settings,
    author: &str,
) -> Result<(), AdminError> {
    let mut connection = open(database)?;
    let found = crate::store::ledger::rows_by_id(&connection, problems).map_err(AdminError::Failed)?;
    let missing: Vec<String> =
        problems.iter().filter(|id| !found.contains_key(id)).map(|id| format!("#{id}")).collect();
    if !missing.is_empty() {
        return Err(AdminError::Refused(vec![format!(
            "问题台账中没有问题 {}（刚发现的问题在 30 秒内写入台账）：用 /api/v1/problems 查看编号",
            missing.join("、")
        )]));
    }
    let rows: Vec<crate::ledger::Problem> = found.into_values().collect();
    let today = xunjian_shared::time::china_today(Timestamp::now());
    let deadline = deadline.unwrap_or_else(|| crate::tasks::default_deadline(settings, today));
    let draft =
        crate::tasks::TaskDraft::from_problems(&rows, unit, title, deadline, today, "").map_err(AdminError::Refused)?;
    let id = crate::store::tasks::create(&mut connection, &draft, author, Timestamp::now()).map_err(user_error)?;
    println!(
        "已下发整改任务 #{id}：{}（{}，{} 个问题，期限 {}）",
        draft.title,
        draft.county,
        draft.problems.len(),
        draft.deadline
    );
    Ok(())
}

/// `task list`: one line per task, newest first.
pub fn list_tasks(database: &Path, county: Option<String>, state: Option<&str>) -> Result<(), AdminError> {
    let state = match state {
        None => None,
        Some(name) => Some(crate::tasks::TaskState::named(name).ok_or_else(|| {
            AdminError::Refused(vec![format!(
                "状态 {name:?} 不存在：可用 {}",
                crate::tasks::TaskState::NAMES.join("、")
            )])
        })?),
    };
    let connection = open(database)?;
    let filter = crate::store::tasks::TaskFilter { county, state, ..Default::default() };
    let tasks = crate::store::tasks::list(&connection, &filter).map_err(AdminError::Failed)?;
    if tasks.is_empty() {
        println!("没有整改任务：xunjian-collector task --config collector.toml add --problem <问题编号>");
    }
    let today = xunjian_shared::time::china_today(Timestamp::now());
    for task in tasks {
        println!(
            "#{}\t{}\t{}\t{}\t{} 个问题\t期限 {}{}\t{}",
            task.id,
            task.county,
            task.unit,
            task.state.label_zh(),
            task.problems.len(),
            task.deadline,
            if task.overdue(today) { "（逾期）" } else { "" },
            task.title
        );
    }
    Ok(())
}

/// `report --issue-tasks`: one task per county and unit for the report's open veto-level
/// problems not already in an unfinished task, due the report's deadline. Returns how many.
pub fn issue_tasks(
    database: &Path,
    report: &crate::report::Report,
    source: &str,
    author: &str,
) -> Result<usize, AdminError> {
    use xunjian_shared::wire::Severity;
    let mut connection = open(database)?;
    let vetoes: Vec<&crate::ledger::Problem> = report
        .problems
        .iter()
        .map(|row| &row.problem)
        .filter(|p| p.severity == Severity::Veto && p.status == crate::ledger::Status::Open)
        .collect();
    let ids: Vec<i64> = vetoes.iter().map(|p| p.id).collect();
    let taken: std::collections::HashSet<i64> = crate::store::tasks::covered(&connection, &ids)
        .map_err(AdminError::Failed)?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let mut groups: std::collections::BTreeMap<(String, String), Vec<crate::ledger::Problem>> = Default::default();
    for problem in vetoes.into_iter().filter(|p| !taken.contains(&p.id)) {
        groups.entry((problem.place.county.clone(), problem.place.unit.clone())).or_default().push(problem.clone());
    }
    let today = xunjian_shared::time::china_today(Timestamp::now());
    let deadline = report.rectification.deadline.max(today);
    let mut made = 0;
    for ((county, unit), problems) in groups {
        let draft = crate::tasks::TaskDraft::from_problems(&problems, Some(&unit), None, deadline, today, source)
            .map_err(AdminError::Refused)?;
        let id = crate::store::tasks::create(&mut connection, &draft, author, Timestamp::now()).map_err(user_error)?;
        eprintln!("已下发整改任务 #{id}：{county} {unit}（{} 个单项否决问题，期限 {deadline}）", problems.len());
        made += 1;
    }
    Ok(made)
}
