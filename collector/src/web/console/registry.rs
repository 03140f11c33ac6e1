//! The registry (`/registry`: the filings of the caller's counties and what the comparison with
//! the agents found), the exemptions (`/exemptions`), and the users (`/users`, admins only).

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use xunjian_shared::time::china_today;
use xunjian_shared::wire::ExemptionStatus;

use super::{Section, county_link, encode, frame, minute, respond, subject_link};
use crate::people::{self, NewUser, Role, User};
use crate::registry::Filing;
use crate::web::access::{Caller, FormCaller};
use crate::web::status_page::escape;
use crate::web::{Pages, WebState, status_report};

/// Rows of one table at most (the rest are in the exports and the problem list).
const MAX_ROWS: usize = 1000;

/// The filings, with the registry findings of the status beside them.
pub fn registry(caller: &Caller, filings: &[Filing], status: &xunjian_shared::wire::RegistryStatus) -> String {
    let mut body = String::with_capacity(filings.len() * 200 + 4096);
    let _ = write!(
        body,
        "<div class=\"box\">备案 {} 个，其中有采集代理巡检 {} 个 · <a href=\"/exemptions\">豁免</a> · 导出：<a href=\"/api/v1/registry.csv\">Excel（CSV）</a> · 导入：<code>xunjian-collector registry --config collector.toml import 备案表.csv</code></div>",
        status.filed, status.observed_filed
    );
    body.push_str("<h2>备案核查发现</h2>");
    if status.findings.is_empty() && status.unmonitored.is_empty() {
        body.push_str("<p class=\"muted\">未发现问题。</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>县区</th><th>单位</th><th>名称</th><th>类型</th><th>问题</th></tr></thead><tbody>",
        );
        for finding in status.findings.iter().take(MAX_ROWS) {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                county_link(&finding.county),
                escape(&finding.unit),
                subject_link(&finding.county, &finding.target),
                escape(&finding.channel),
                escape(finding.finding.code.label_zh())
            );
        }
        for filing in status.unmonitored.iter().take(MAX_ROWS) {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>已备案（{}），但没有任何采集代理巡检</td></tr>",
                county_link(&filing.county),
                escape(&filing.unit),
                subject_link(&filing.county, &filing.name),
                escape(&filing.channel),
                escape(&filing.status)
            );
        }
        body.push_str("</tbody></table>");
        let hidden = status.findings.len().saturating_sub(MAX_ROWS) + status.unmonitored.len().saturating_sub(MAX_ROWS);
        if hidden > 0 {
            let _ = write!(
                body,
                "<p class=\"muted\">另有 {hidden} 条未列出：请在<a href=\"/problems?status=open\">问题台账</a>中按县区筛选，或导出 Excel。</p>"
            );
        }
    }
    body.push_str("<h2>备案表</h2><table><thead><tr><th>县区</th><th>责任单位</th><th>单位类型</th><th>名称</th><th>平台</th><th>账号ID</th><th>开设日期</th><th>备案日期</th><th>状态</th></tr></thead><tbody>");
    for filing in filings {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            county_link(&filing.county),
            escape(&filing.unit),
            filing.unit_type.map(|t| t.label_zh()).unwrap_or(""),
            subject_link(&filing.county, &filing.name),
            filing.channel.label_zh(),
            escape(filing.account_id.as_deref().unwrap_or("")),
            filing.opened_on.map(|d| d.to_string()).unwrap_or_default(),
            filing.filed_on.map(|d| d.to_string()).unwrap_or_default(),
            filing.status.label_zh()
        );
    }
    body.push_str("</tbody></table>");
    frame("备案", caller, Section::Registry, &body)
}

/// The exemptions in force first, then the ended ones: each with its reason and author.
pub fn exemptions(caller: &Caller, list: &[ExemptionStatus]) -> String {
    let mut body = String::from(
        "<p class=\"muted\">豁免：经审核接受的问题（如本年度无人事任免的栏目），不计入合格判定和告警。添加：<code>xunjian-collector exemption add</code> 或 <code>POST /api/v1/exemptions</code>（管理员）。</p>",
    );
    body.push_str("<table><thead><tr><th>编号</th><th>名称</th><th>栏目/渠道</th><th>问题</th><th>理由</th><th>添加</th><th>期限</th><th>状态</th></tr></thead><tbody>");
    let mut sorted: Vec<&ExemptionStatus> = list.iter().collect();
    sorted.sort_by_key(|e| (!e.active, std::cmp::Reverse(e.id)));
    for exemption in sorted {
        let state = match (&exemption.revoked_at, exemption.active) {
            (Some(at), _) => {
                format!("已由 {} 撤销（{}）", escape(exemption.revoked_by.as_deref().unwrap_or("")), minute(*at))
            }
            (None, true) => "生效".to_string(),
            (None, false) => "已到期".to_string(),
        };
        let _ = write!(
            body,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{state}</td></tr>",
            exemption.id,
            escape(&exemption.target),
            escape(&exemption.column),
            escape(exemption.code.label_zh()),
            escape(&exemption.reason),
            escape(&exemption.author),
            minute(exemption.created_at),
            exemption.until.map(|d| d.to_string()).unwrap_or_else(|| "长期".into())
        );
    }
    body.push_str("</tbody></table>");
    frame("豁免", caller, Section::Registry, &body)
}

/// The users, for an admin: role, counties, state, never a secret; and the forms that add a
/// user, reset a password (a throw-away one, shown once in `notice`) and disable or enable one.
pub fn users(caller: &Caller, list: &[User], notice: Option<&str>) -> String {
    let csrf = escape(caller.csrf().unwrap_or(""));
    let mut body = String::new();
    if let Some(notice) = notice {
        let _ = write!(body, "<div class=\"box\" role=\"status\">{}</div>", escape(notice));
    }
    let _ = write!(
        body,
        "<form class=\"filters box\" method=\"post\" action=\"/users\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>用户名<input name=\"name\" required maxlength=\"64\"></label><label>角色<select name=\"role\">{roles}</select></label>\
         <label>可见县区（县区用户、只读用户必填，多个用顿号分隔）<input name=\"counties\"></label>\
         <button type=\"submit\">添加用户（生成一次性密码）</button></form>\
         <p class=\"muted\">也可在采集中心主机上：<code>xunjian-collector user --config collector.toml add|disable|enable|passwd|token</code>。</p>",
        roles = Role::ALL
            .iter()
            .map(|role| format!("<option value=\"{}\">{}</option>", role.as_str(), role.label_zh()))
            .collect::<String>()
    );
    body.push_str("<table><thead><tr><th>用户名</th><th>角色</th><th>可见县区</th><th>状态</th><th>密码</th><th>令牌</th><th>添加</th><th>操作</th></tr></thead><tbody>");
    for user in list {
        let name = encode(&user.name);
        let toggle = if user.disabled_at.is_some() { ("enable", "启用") } else { ("disable", "停用") };
        let actions = format!(
            "<form class=\"logout\" method=\"post\" action=\"/users/{name}/{}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{}</button></form> \
             <form class=\"logout\" method=\"post\" action=\"/users/{name}/password\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">重置密码</button></form>",
            toggle.0, toggle.1
        );
        let scope =
            if user.counties.is_empty() { "全部县区".to_string() } else { escape(&user.counties.join("、")) };
        let state = match user.disabled_at {
            Some(at) => format!("已停用（{}）", minute(at)),
            None => "启用".to_string(),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{scope}</td><td>{state}</td><td>{}</td><td>{} 个</td><td>{} {}</td><td>{actions}</td></tr>",
            escape(&user.name),
            user.role.label_zh(),
            if user.has_password { "已设置" } else { "未设置" },
            user.tokens,
            escape(&user.created_by),
            minute(user.created_at)
        );
    }
    body.push_str("</tbody></table>");
    frame("用户", caller, Section::Users, &body)
}

pub async fn registry_page(State(state): State<WebState>, caller: Caller) -> Response {
    let filings = crate::web::admin_api::visible_filings(&state, &caller);
    let (store, judgements, scope) = (state.store.clone(), state.judgements.clone(), caller.scope.clone());
    let status = tokio::task::spawn_blocking(move || {
        let judged = judgements.get(&store);
        status_report(&store, &judged, &scope, Pages::None).registry
    })
    .await;
    match status {
        Ok(status) => respond(registry(&caller, &filings, &status)),
        Err(_) => crate::web::bad_request("读取备案失败，请稍后重试".into()),
    }
}

pub async fn exemptions_page(State(state): State<WebState>, caller: Caller) -> Response {
    let today = china_today(Timestamp::now());
    let visible = crate::web::visible_targets(&state.store, &caller.scope);
    let list: Vec<ExemptionStatus> = state
        .store
        .registry()
        .exemptions
        .iter()
        .filter(|e| visible.as_ref().is_none_or(|targets| targets.contains(&e.target)))
        .map(|e| crate::web::exemption_status(e, today))
        .collect();
    respond(exemptions(&caller, &list))
}

/// Whether `caller` manages users (an admin who logged in or holds a token).
fn manages_users(caller: &Caller) -> Result<(), crate::web::access::Denied> {
    if caller.role == Role::Admin && caller.via != crate::web::access::Via::Open {
        Ok(())
    } else {
        Err(crate::web::access::forbidden("用户管理仅限管理员"))
    }
}

/// The users page, with `notice` (what a change did) on top.
async fn users_with(state: &WebState, caller: &Caller, notice: Option<String>, status: StatusCode) -> Response {
    match state.gate.with_db(|db| crate::store::users::list(db)).await {
        Ok(list) => {
            let mut response = respond(users(caller, &list, notice.as_deref()));
            *response.status_mut() = status;
            response
        }
        Err(refusal) => refusal,
    }
}

pub async fn users_page(State(state): State<WebState>, caller: Caller) -> Response {
    if let Err(denied) = manages_users(&caller) {
        return denied.into_response();
    }
    users_with(&state, &caller, None, StatusCode::OK).await
}

/// `POST /users`: a new user with a throw-away password, shown once on the page that answers.
pub async fn add_user(State(state): State<WebState>, form: FormCaller) -> Response {
    let caller = &form.caller;
    if let Err(denied) = manages_users(caller) {
        return denied.into_response();
    }
    let counties: Vec<String> = form.field("counties").split(['、', ',', '，', ' ']).map(str::to_string).collect();
    let new = match NewUser::parse(form.field("name"), form.field("role"), &counties) {
        Ok(new) => new,
        Err(problems) => {
            return users_with(&state, caller, Some(problems.join("；")), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let made = people::generate_password().and_then(|password| Ok((people::hash_password(&password)?, password)));
    let Ok((hash, password)) = made else {
        return users_with(&state, caller, Some("无法生成密码，请稍后重试".into()), StatusCode::SERVICE_UNAVAILABLE)
            .await;
    };
    let author = caller.name.clone();
    let added = {
        let new = new.clone();
        state
            .gate
            .with_db(move |db| Ok(crate::store::users::add(db, &new, Some(&hash), &author, Timestamp::now())))
            .await
    };
    let notice = match added {
        Ok(Ok(_)) => format!(
            "已添加用户 {}（{}）。初始密码（只显示这一次，请转交本人并提醒其修改）：{password}",
            new.name,
            new.role.label_zh()
        ),
        Ok(Err(error)) => error.to_string(),
        Err(refusal) => return refusal,
    };
    users_with(&state, caller, Some(notice), StatusCode::OK).await
}

/// `POST /users/{name}/disable|enable|password`.
pub async fn change_user(
    State(state): State<WebState>,
    Path((name, action)): Path<(String, String)>,
    form: FormCaller,
) -> Response {
    let caller = &form.caller;
    if let Err(denied) = manages_users(caller) {
        return denied.into_response();
    }
    let author = caller.name.clone();
    let now = Timestamp::now();
    let (who, done) = (name.clone(), action.clone());
    let changed = match action.as_str() {
        "disable" | "enable" => {
            let disabled = action == "disable";
            state
                .gate
                .with_db(move |db| {
                    Ok(crate::store::users::set_disabled(db, &who, disabled, &author, now).map(|()| None))
                })
                .await
        }
        "password" => {
            let made =
                people::generate_password().and_then(|password| Ok((people::hash_password(&password)?, password)));
            let Ok((hash, password)) = made else {
                return users_with(
                    &state,
                    caller,
                    Some("无法生成密码，请稍后重试".into()),
                    StatusCode::SERVICE_UNAVAILABLE,
                )
                .await;
            };
            state
                .gate
                .with_db(move |db| {
                    Ok(crate::store::users::set_password(db, &who, &hash, &author, now).map(|()| Some(password)))
                })
                .await
        }
        _ => return crate::web::bad_request(format!("不认识的操作 {done:?}：可用 disable、enable、password")),
    };
    let notice = match changed {
        Ok(Ok(Some(password))) => format!("已重置 {name} 的密码，其登录均已结束。新密码（只显示这一次）：{password}"),
        Ok(Ok(None)) => format!("已{}用户 {name}", if done == "disable" { "停用" } else { "启用" }),
        Ok(Err(error)) => error.to_string(),
        Err(refusal) => return refusal,
    };
    users_with(&state, caller, Some(notice), StatusCode::OK).await
}
