//! People (issue 13): who may look at what. Users with a role and, for the scoped roles, the
//! counties they see; passwords stored as Argon2id PHC strings; personal API tokens stored as
//! SHA-256 digests and shown once; web sessions; login attempt limits ([`login`]). Pure: the
//! rows live in `store::users`.

pub mod login;

use std::fmt::Write as _;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};

xunjian_shared::closed_set! {
    /// What a user may do.
    pub enum Role: RoleInfo {
        /// The city office: everything, users included.
        Admin = "admin" => RoleInfo { label_zh: "管理员", scoped: false },
        /// Reads everything and makes 整改 tasks.
        City = "city" => RoleInfo { label_zh: "市级用户", scoped: false },
        /// Reads and answers for its counties.
        County = "county" => RoleInfo { label_zh: "县区用户", scoped: true },
        /// Reads its counties.
        Viewer = "viewer" => RoleInfo { label_zh: "只读用户", scoped: true },
    }
}

/// What is declared with each role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleInfo {
    pub label_zh: &'static str,
    /// Sees only the counties it names.
    pub scoped: bool,
}

impl Role {
    pub fn label_zh(self) -> &'static str {
        self.info().label_zh
    }

    pub fn scoped(self) -> bool {
        self.info().scoped
    }
}

/// The counties a caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every county and the city's totals.
    All,
    /// Only these (never empty).
    Counties(std::collections::BTreeSet<String>),
}

impl Scope {
    /// A user's scope: its counties when its role is scoped.
    pub fn of(user: &User) -> Scope {
        if user.role.scoped() { Scope::Counties(user.counties.iter().cloned().collect()) } else { Scope::All }
    }

    pub fn sees(&self, county: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Counties(counties) => counties.contains(county),
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    /// The counties, for a scoped caller.
    pub fn counties(&self) -> Option<&std::collections::BTreeSet<String>> {
        match self {
            Scope::All => None,
            Scope::Counties(counties) => Some(counties),
        }
    }
}

/// A user as stored (without the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The counties a scoped role sees; empty for the others.
    pub counties: Vec<String>,
    pub created_at: jiff::Timestamp,
    pub created_by: String,
    pub disabled_at: Option<jiff::Timestamp>,
    /// Whether a password is set (a user may have tokens only).
    pub has_password: bool,
    /// Tokens not revoked.
    pub tokens: u32,
}

/// A user to add, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub counties: Vec<String>,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: hashing a megabyte would be a way to burn the server's CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest user name.
pub const MAX_NAME_CHARS: usize = 64;

impl NewUser {
    /// Checks a user to add; every problem at once, in Chinese.
    pub fn parse(name: &str, role: &str, counties: &[String]) -> Result<NewUser, Vec<String>> {
        let mut problems = Vec::new();
        let name = name.trim();
        if let Err(problem) = check_name(name) {
            problems.push(problem);
        }
        let role = match Role::named(role.trim()) {
            Some(role) => Some(role),
            None => {
                problems.push(format!("角色 {role:?} 不存在：可用 {}", Role::NAMES.join("、")));
                None
            }
        };
        let mut counties: Vec<String> =
            counties.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
        counties.sort();
        counties.dedup();
        match role {
            Some(role) if role.scoped() && counties.is_empty() => problems.push(format!(
                "角色 {}（{}）只能看到指定县区：请用 --county 指定至少一个县区",
                role.as_str(),
                role.label_zh()
            )),
            Some(role) if !role.scoped() && !counties.is_empty() => problems.push(format!(
                "角色 {}（{}）可看到全部县区，不能指定 --county；只看部分县区请用 county 或 viewer 角色",
                role.as_str(),
                role.label_zh()
            )),
            _ => {}
        }
        for county in &counties {
            if county.chars().any(char::is_control) || county.chars().count() > 256 {
                problems.push(format!("县区名称 {county:?} 无效"));
            }
        }
        match (role, problems.is_empty()) {
            (Some(role), true) => Ok(NewUser { name: name.to_string(), role, counties }),
            _ => Err(problems),
        }
    }
}

/// A user name: 1–64 characters, no spaces or control characters, not starting with `-`.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!("用户名应为 1–{MAX_NAME_CHARS} 个字符"));
    }
    if name.starts_with('-') || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("用户名 {name:?} 不能以“-”开头，也不能含空格或控制字符"));
    }
    Ok(())
}

/// Checks a new password: long enough, not the user's name.
pub fn check_password(name: &str, password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("密码至少 {MIN_PASSWORD_CHARS} 个字符"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("密码最多 {MAX_PASSWORD_CHARS} 个字符"));
    }
    if password.eq_ignore_ascii_case(name) {
        return Err("密码不能与用户名相同".to_string());
    }
    Ok(())
}

/// Why a secret could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(bytes)
}

/// The password as stored: an Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), with
/// a random 16-byte salt and the crate's default cost (OWASP's recommendation).
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = random_bytes::<16>()?;
    argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Whether `password` matches a stored PHC string (false for a malformed one).
pub fn verify_password(password: &str, stored: &str) -> bool {
    argon2::Argon2::default().verify_password(password.as_bytes(), stored).is_ok()
}

/// A throw-away password to hand out once: 16 characters without look-alikes.
pub fn generate_password() -> Result<String, SecretError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut password = String::new();
    while password.len() < 16 {
        for byte in random_bytes::<32>()? {
            // Rejection keeps every character equally likely.
            let limit = 256 - 256 % ALPHABET.len();
            if usize::from(byte) < limit && password.len() < 16 {
                password.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Ok(password)
}

/// A new web session's id (the cookie's value, shown to the browser only) and its digest (stored).
pub fn generate_session() -> Result<(String, String), SecretError> {
    use base64::Engine as _;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let digest = token_digest(&id);
    Ok((id, digest))
}

/// The CSRF token of a session: derived from its id, so only the cookie's holder can know it
/// and nothing more needs storing.
pub fn csrf_token(session_id: &str) -> String {
    token_digest(&format!("xunjian-csrf\0{session_id}"))[..32].to_string()
}

/// A random value for a form that is sent before any session exists (the login form).
pub fn generate_nonce() -> Result<String, SecretError> {
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<18>()?))
}

/// What a personal API token starts with, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "xjt_";

/// A new personal API token (shown once) and its digest (stored).
pub fn generate_token() -> Result<(String, String), SecretError> {
    use base64::Engine as _;
    let token =
        format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
    let digest = token_digest(&token);
    Ok((token, digest))
}

/// A token's digest as stored: SHA-256, hex. Tokens carry 256 random bits, so a fast hash is
/// enough (a slow one would only slow every API call).
pub fn token_digest(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest.as_ref() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_themselves() {
        let stored = hash_password("龙川县整改2026").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify_password("龙川县整改2026", &stored));
        assert!(!verify_password("龙川县整改2027", &stored));
        assert!(!verify_password("龙川县整改2026", "not a hash"));
        assert_ne!(hash_password("龙川县整改2026").unwrap(), stored, "a fresh salt each time");
    }

    #[test]
    fn generated_secrets_are_long_random_and_digested() {
        let (a, b) = (generate_password().unwrap(), generate_password().unwrap());
        assert_eq!(a.chars().count(), 16);
        assert_ne!(a, b);
        assert!(check_password("lc", &a).is_ok());
        let (token, digest) = generate_token().unwrap();
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() == TOKEN_PREFIX.len() + 43, "{token}");
        assert_eq!(digest, token_digest(&token));
        assert_eq!(digest.len(), 64);
        assert!(!digest.contains(&token[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn new_users_are_checked_all_at_once() {
        let county = NewUser::parse(" lc-admin ", "county", &["龙川县".into(), " 龙川县".into()]).unwrap();
        assert_eq!(
            (county.name.as_str(), county.role, county.counties),
            ("lc-admin", Role::County, vec!["龙川县".to_string()])
        );
        let problems = NewUser::parse("bad name", "boss", &[]).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].contains("admin、city、county、viewer"), "{problems:?}");
        assert!(NewUser::parse("lc", "county", &[]).unwrap_err()[0].contains("--county"));
        assert!(NewUser::parse("office", "admin", &["龙川县".into()]).unwrap_err()[0].contains("不能指定 --county"));
        assert!(check_password("office", "short").is_err());
        assert!(check_password("officeuser", "OFFICEUSER").is_err());
    }
}
