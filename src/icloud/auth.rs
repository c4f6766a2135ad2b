//! Signing in to Apple: SRP (`s2k` / `s2k_fo`), the 2026 two-factor flow (explicit push trigger,
//! trusted-device code, SMS fallback), `2sv/trust`, `accountLogin`, and session reuse via
//! `validate`. A refused password is never retried; refusals and throttling set a back-off that
//! the next run honours before sending anything.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::error::{Error, Result};
use super::http::{Http, Roots, WIDGET_KEY, header, value};
use super::session::{Session, TRUST_DAYS};
use super::srp;

const BUILD: &str = "2534Project66";
const MASTERING: &str = "2534B22";
/// First back-off after a refusal; doubled while refusals continue, up to a day.
const FIRST_BACKOFF: i64 = 3600;
const MAX_BACKOFF: i64 = 86_400;
/// A session Apple accepted this recently is used without `validate` (one request less per
/// sync); CloudKit answers 401/421 once it has ended, and the sync then signs in again.
pub const REUSE_SECS: i64 = 86_400;

/// Asks the person at the keyboard or in the browser.
pub trait Prompt {
    /// Shows `question`, returns the answer (`None` when nobody answers).
    fn ask(&mut self, question: &str) -> Option<String>;

    /// Called once Apple has sent the device code and before asking for it: `session` then
    /// holds Apple's sign-in conversation, which [`Client::login_with_code`] can finish later.
    fn code_sent(&mut self, _session: &Session) {}

    /// Called once Apple has sent a text message to `phone` (id, number as shown) instead.
    fn sms_sent(&mut self, _session: &Session, _phone: (i64, String)) {}
}

/// What `accountLogin` / `validate` told us about the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Directory services id.
    pub dsid: String,
    /// CloudKit database host.
    pub ckdatabase: String,
}

/// A signed-in (or signing-in) connection to one Apple ID.
pub struct Client {
    /// The transport.
    pub http: Http,
    /// Apple's entry points.
    pub roots: Roots,
    /// The session, saved by the caller after each step.
    pub session: Session,
}

enum SignIn {
    Trusted,
    SecondFactor,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Client {
    /// A client for `session`, with the roots of its service.
    pub fn new(session: Session) -> Result<Self> {
        let roots = Roots::from_env(session.china)?;
        let http = Http::new(session.cookies.clone())?;
        Ok(Self {
            http,
            roots,
            session,
        })
    }

    /// The session with the current cookies, ready to save.
    pub fn snapshot(&mut self) -> &Session {
        self.session.cookies = self.http.cookie_snapshot();
        &self.session
    }

    /// Refuses to talk to Apple during a back-off.
    pub fn check_blocked(&self) -> Result<()> {
        match self.session.blocked_until {
            Some(until) if until > now() => Err(Error::Throttled { until }),
            _ => Ok(()),
        }
    }

    /// Starts or extends a back-off: Apple's `retryAfter` when given, else doubling from an hour.
    pub fn back_off(&mut self, retry_after: Option<i64>) -> i64 {
        let wait = match retry_after {
            Some(s) if s > 0 => s,
            _ => (self.session.backoff_secs * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF),
        };
        self.session.backoff_secs = wait;
        let until = now() + wait;
        self.session.blocked_until = Some(until);
        until
    }

    /// Clears the back-off after a success.
    pub fn clear_back_off(&mut self) {
        self.session.backoff_secs = 0;
        self.session.blocked_until = None;
    }

    /// Interactive sign-in: SRP, then a second factor when Apple asks, then trust and
    /// `accountLogin`. The password is kept (sealed) for unattended re-sign-in.
    pub async fn login(&mut self, password: &str, prompt: &mut dyn Prompt) -> Result<Account> {
        self.check_blocked()?;
        match self.signin(password).await? {
            SignIn::Trusted => {}
            SignIn::SecondFactor => {
                self.second_factor(prompt).await?;
                self.trust().await?;
            }
        }
        let account = self.account_login().await?;
        self.session.password = Some(password.to_string());
        self.session.needs_login = None;
        self.clear_back_off();
        Ok(account)
    }

    /// Finishes a sign-in whose device code was sent earlier, maybe by a process that has
    /// since stopped: this session still holds Apple's conversation (`scnt`, session id,
    /// cookies), so the code goes on from there.
    pub async fn login_with_code(
        &mut self,
        password: &str,
        code: &str,
        sms: Option<i64>,
    ) -> Result<Account> {
        self.check_blocked()?;
        let req = match sms {
            Some(id) => self
                .auth_request(Method::POST, "/verify/phone/securitycode")?
                .json(&json!({"phoneNumber": {"id": id}, "securityCode": {"code": code.trim()}, "mode": "sms"})),
            None => self
                .auth_request(Method::POST, "/verify/trusteddevice/securitycode")?
                .json(&json!({"securityCode": {"code": code.trim()}})),
        };
        let resp = self.http.send(req).await?;
        self.code_answer(resp).await?;
        self.trust().await?;
        let account = self.account_login().await?;
        self.session.password = Some(password.to_string());
        self.session.needs_login = None;
        self.clear_back_off();
        Ok(account)
    }

    /// Unattended: reuse the session (`validate`), else sign in again with the saved password
    /// and trust token. Anything that needs a person marks the session and stops.
    pub async fn resume(&mut self) -> Result<Account> {
        if let Some(why) = &self.session.needs_login {
            return Err(Error::NeedsLogin(why.clone()));
        }
        self.check_blocked()?;
        if let Some(account) = self.reusable() {
            return Ok(account);
        }
        self.revalidate().await
    }

    /// The saved account, when Apple accepted this session within [`REUSE_SECS`] and its
    /// web token cookie is still there.
    fn reusable(&self) -> Option<Account> {
        let s = &self.session;
        let t = now();
        let fresh = s.last_ok.is_some_and(|ok| ok <= t && t - ok < REUSE_SECS);
        let cookie = self
            .http
            .cookie_expiry("X-APPLE-WEBAUTH-TOKEN")
            .is_none_or(|e| e > t);
        if !fresh
            || s.session_token.is_none()
            || !self.http.has_cookie("X-APPLE-WEBAUTH-TOKEN")
            || !cookie
        {
            return None;
        }
        Some(Account {
            dsid: s.dsid.clone()?,
            ckdatabase: s.ckdatabase.clone()?,
        })
    }

    /// `validate`, else a sign-in with the saved password and trust token: for a session not
    /// used lately, or one CloudKit said has ended.
    pub async fn revalidate(&mut self) -> Result<Account> {
        self.session.last_ok = None;
        if let Some(why) = &self.session.needs_login {
            return Err(Error::NeedsLogin(why.clone()));
        }
        self.check_blocked()?;
        if self.session.session_token.is_some()
            && self.http.has_cookie("X-APPLE-WEBAUTH-TOKEN")
            && let Some(account) = self.validate().await?
        {
            return Ok(account);
        }
        let Some(password) = self.session.password.clone() else {
            return Err(self.needs_login("no saved password"));
        };
        match self.signin(&password).await {
            Ok(SignIn::Trusted) => {}
            Ok(SignIn::SecondFactor) => {
                return Err(self.needs_login("the two-factor trust of this box ended"));
            }
            Err(Error::WrongPassword) => {
                self.session.password = None;
                self.session.needs_login = Some("Apple refused the saved password".into());
                return Err(Error::WrongPassword);
            }
            Err(e) => return Err(e),
        }
        let account = self.account_login().await?;
        self.clear_back_off();
        Ok(account)
    }

    fn needs_login(&mut self, why: &str) -> Error {
        self.session.needs_login = Some(why.to_string());
        Error::NeedsLogin(why.to_string())
    }

    fn auth_request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder> {
        let url = format!("{}{path}", self.roots.auth);
        let s = &self.session;
        let mut req = self
            .http
            .request(method, &url)?
            .header("Accept", "application/json, text/javascript")
            .header("Content-Type", "application/json")
            .header("Origin", value(&self.roots.home))
            .header("Referer", value(&format!("{}/", self.roots.home)))
            .header("X-Apple-OAuth-Client-Id", WIDGET_KEY)
            .header("X-Apple-Widget-Key", WIDGET_KEY)
            .header("X-Apple-OAuth-Client-Type", "firstPartyAuth")
            .header("X-Apple-OAuth-Redirect-URI", value(&self.roots.home))
            .header("X-Apple-OAuth-Require-Grant-Code", "true")
            .header("X-Apple-OAuth-Response-Mode", "web_message")
            .header("X-Apple-OAuth-Response-Type", "code")
            .header("X-Apple-OAuth-State", value(&s.client_id))
            .header("X-Apple-Frame-Id", value(&s.client_id));
        if let Some(scnt) = &s.scnt {
            req = req.header("scnt", value(scnt));
        }
        if let Some(id) = &s.session_id {
            req = req.header("X-Apple-ID-Session-Id", value(id));
        }
        Ok(req)
    }

    /// Keeps Apple's session headers from any answer.
    fn capture(&mut self, headers: &HeaderMap) {
        let s = &mut self.session;
        let pairs: [(&str, &mut Option<String>); 5] = [
            ("scnt", &mut s.scnt),
            ("X-Apple-ID-Session-Id", &mut s.session_id),
            ("X-Apple-Session-Token", &mut s.session_token),
            ("X-Apple-TwoSV-Trust-Token", &mut s.trust_token),
            ("X-Apple-ID-Account-Country", &mut s.account_country),
        ];
        for (name, slot) in pairs {
            if let Some(v) = header(headers, name) {
                *slot = Some(v);
            }
        }
    }

    async fn signin(&mut self, password: &str) -> Result<SignIn> {
        let client = srp::Client::new();
        let body = json!({
            "a": B64.encode(client.public()),
            "accountName": self.session.apple_id,
            "protocols": ["s2k", "s2k_fo"],
        });
        let resp = self
            .http
            .send(self.auth_request(Method::POST, "/signin/init")?.json(&body))
            .await?;
        self.capture(resp.headers());
        let status = resp.status().as_u16();
        if status == 503 || status == 429 {
            let until = self.back_off(None);
            return Err(Error::Throttled { until });
        }
        if status == 401 || status == 400 {
            // Apple answers an unknown account at init like a wrong password.
            return Err(Error::WrongPassword);
        }
        let init: Value = json_body(resp, "signin/init").await?;
        let field = |k: &str| {
            init.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Protocol(format!("signin/init without {k}")))
        };
        let salt = B64
            .decode(field("salt")?)
            .map_err(|_| Error::Protocol("bad salt".into()))?;
        let b = B64
            .decode(field("b")?)
            .map_err(|_| Error::Protocol("bad B".into()))?;
        let c = field("c")?.to_string();
        let protocol = srp::Protocol::parse(field("protocol")?)
            .ok_or_else(|| Error::Protocol("unknown SRP protocol".into()))?;
        let iterations = init
            .get("iteration")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::Protocol("signin/init without iteration".into()))?;
        let key = srp::password_key(password, &salt, iterations, protocol);
        let proof = client
            .proof(&self.session.apple_id, &key, &salt, &b)
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let trust: Vec<&str> = self
            .session
            .trust_token
            .iter()
            .map(String::as_str)
            .collect();
        let body = json!({
            "accountName": self.session.apple_id,
            "c": c,
            "m1": B64.encode(&proof.m1),
            "m2": B64.encode(&proof.m2),
            "rememberMe": true,
            "trustTokens": trust,
        });
        let resp = self
            .http
            .send(
                self.auth_request(Method::POST, "/signin/complete?isRememberMeEnabled=true")?
                    .json(&body),
            )
            .await?;
        self.capture(resp.headers());
        match resp.status().as_u16() {
            200 | 204 => Ok(SignIn::Trusted),
            409 => Ok(SignIn::SecondFactor),
            412 => {
                let resp = self
                    .http
                    .send(
                        self.auth_request(Method::POST, "/repair/complete")?
                            .json(&json!({})),
                    )
                    .await?;
                self.capture(resp.headers());
                Ok(SignIn::Trusted)
            }
            401 => Err(Error::WrongPassword),
            403 => Err(Error::Locked),
            503 | 429 => {
                let until = self.back_off(None);
                Err(Error::Throttled { until })
            }
            s => Err(Error::Protocol(format!("signin/complete answered {s}"))),
        }
    }

    async fn second_factor(&mut self, prompt: &mut dyn Prompt) -> Result<()> {
        let resp = self.http.send(self.auth_request(Method::GET, "")?).await?;
        self.capture(resp.headers());
        let text = resp.text().await.map_err(Error::network)?;
        let options = parse_options(&text);
        let phones = phone_numbers(&options);
        // Since iOS 26.4 Apple only pushes the code to trusted devices when asked.
        let resp = self
            .http
            .send(self.auth_request(Method::PUT, "/verify/trusteddevice/securitycode")?)
            .await?;
        self.capture(resp.headers());
        let sms_hint = phones
            .first()
            .map(|(_, n)| format!(", or type sms for a text message to {n}"))
            .unwrap_or_default();
        self.session.cookies = self.http.cookie_snapshot();
        prompt.code_sent(&self.session);
        let answer = prompt
            .ask(&format!(
                "Enter the verification code shown on your Apple device{sms_hint}:"
            ))
            .ok_or_else(|| Error::NeedsLogin("no verification code was entered".into()))?;
        let answer = answer.trim();
        if answer.eq_ignore_ascii_case("sms") {
            let (id, number) = phones
                .first()
                .cloned()
                .ok_or_else(|| Error::Protocol("no trusted phone number for SMS".into()))?;
            self.send_sms(id).await?;
            self.session.cookies = self.http.cookie_snapshot();
            prompt.sms_sent(&self.session, (id, number.clone()));
            let code = prompt
                .ask(&format!("Enter the code sent by text message to {number}:"))
                .ok_or_else(|| Error::NeedsLogin("no verification code was entered".into()))?;
            let body = json!({"phoneNumber": {"id": id}, "securityCode": {"code": code.trim()}, "mode": "sms"});
            let resp = self
                .http
                .send(
                    self.auth_request(Method::POST, "/verify/phone/securitycode")?
                        .json(&body),
                )
                .await?;
            return self.code_answer(resp).await;
        }
        let body = json!({"securityCode": {"code": answer}});
        let resp = self
            .http
            .send(
                self.auth_request(Method::POST, "/verify/trusteddevice/securitycode")?
                    .json(&body),
            )
            .await?;
        self.code_answer(resp).await
    }

    /// Asks Apple for a text message with a code to the trusted phone `id`, in this
    /// sign-in's conversation (also to send it again after a restart).
    pub async fn send_sms(&mut self, id: i64) -> Result<()> {
        let phone = json!({"phoneNumber": {"id": id}, "mode": "sms"});
        let resp = self
            .http
            .send(
                self.auth_request(Method::PUT, "/verify/phone")?
                    .json(&phone),
            )
            .await?;
        self.capture(resp.headers());
        if !resp.status().is_success() {
            return Err(Error::Protocol(format!(
                "Apple did not send the text message ({})",
                resp.status()
            )));
        }
        Ok(())
    }

    async fn code_answer(&mut self, resp: reqwest::Response) -> Result<()> {
        self.capture(resp.headers());
        let status = resp.status().as_u16();
        if status == 200 || status == 204 || status == 202 {
            return Ok(());
        }
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        // Bridge-type challenges answer 409 while the body says the code was valid.
        if status == 409
            && body
                .pointer("/securityCode/valid")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        {
            return Ok(());
        }
        if status == 503 {
            let until = self.back_off(None);
            return Err(Error::Throttled { until });
        }
        Err(Error::WrongCode)
    }

    async fn trust(&mut self) -> Result<()> {
        let resp = self
            .http
            .send(self.auth_request(Method::GET, "/2sv/trust")?)
            .await?;
        self.capture(resp.headers());
        if !resp.status().is_success() {
            return Err(Error::Protocol(format!(
                "2sv/trust answered {}",
                resp.status()
            )));
        }
        self.session.trust_expires = Some(now() + TRUST_DAYS * 86_400);
        Ok(())
    }

    fn setup_url(&self, path: &str) -> String {
        let mut url = format!(
            "{}{path}?clientBuildNumber={BUILD}&clientMasteringNumber={MASTERING}&clientId={}",
            self.roots.setup, self.session.client_id
        );
        if let Some(dsid) = &self.session.dsid {
            url.push_str("&dsid=");
            url.push_str(dsid);
        }
        url
    }

    fn setup_request(&self, path: &str) -> Result<reqwest::RequestBuilder> {
        Ok(self
            .http
            .request(Method::POST, &self.setup_url(path))?
            .header("Origin", value(&self.roots.home))
            .header("Referer", value(&format!("{}/", self.roots.home)))
            .header("Content-Type", "text/plain"))
    }

    async fn account_login(&mut self) -> Result<Account> {
        let body = json!({
            "accountCountryCode": self.session.account_country.clone().unwrap_or_default(),
            "dsWebAuthToken": self.session.session_token.clone().unwrap_or_default(),
            "extended_login": true,
            "trustToken": self.session.trust_token.clone().unwrap_or_default(),
        });
        let resp = self
            .http
            .send(self.setup_request("/accountLogin")?.body(body.to_string()))
            .await?;
        let status = resp.status().as_u16();
        if status == 503 {
            let until = self.back_off(None);
            return Err(Error::Throttled { until });
        }
        if status == 401 || status == 421 {
            return Err(self.needs_login("Apple did not accept the sign-in"));
        }
        let info: Value = json_body(resp, "accountLogin").await?;
        self.account_from(&info)
    }

    /// `validate`: `Some` while the session still works.
    async fn validate(&mut self) -> Result<Option<Account>> {
        let resp = self
            .http
            .send(self.setup_request("/validate")?.body("null"))
            .await?;
        let status = resp.status().as_u16();
        if status == 503 {
            let until = self.back_off(None);
            return Err(Error::Throttled { until });
        }
        if !resp.status().is_success() {
            return Ok(None);
        }
        let info: Value = json_body(resp, "validate").await?;
        self.account_from(&info).map(Some)
    }

    fn account_from(&mut self, info: &Value) -> Result<Account> {
        if let Some(domain) = info.get("domainToUse").and_then(Value::as_str) {
            return Err(Error::WrongDomain(domain.to_string()));
        }
        let ds = info.get("dsInfo").cloned().unwrap_or(Value::Null);
        let hsa = ds.get("hsaVersion").and_then(Value::as_u64).unwrap_or(0);
        let challenge = info
            .get("hsaChallengeRequired")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let trusted = info
            .get("hsaTrustedBrowser")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if hsa >= 1 && (challenge || !trusted) {
            return Err(self.needs_login("Apple asks for a second factor"));
        }
        if ds.get("isWebAccessAllowed").and_then(Value::as_bool) == Some(false) {
            return Err(Error::WebAccessOff);
        }
        if info.get("termsUpdateNeeded").and_then(Value::as_bool) == Some(true) {
            return Err(Error::TermsUpdateNeeded);
        }
        let dsid = match ds.get("dsid") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(Error::Protocol("no dsInfo.dsid".into())),
        };
        let ck = info
            .pointer("/webservices/ckdatabasews/url")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Protocol("no ckdatabasews in webservices".into()))?
            .trim_end_matches('/')
            .trim_end_matches(":443")
            .to_string();
        super::http::check_url(&ck)?;
        if let Some(exp) = self.http.cookie_expiry("X-APPLE-WEBAUTH-USER") {
            self.session.trust_expires = Some(exp);
        }
        self.session.dsid = Some(dsid.clone());
        self.session.ckdatabase = Some(ck.clone());
        self.session.last_ok = Some(now());
        Ok(Account {
            dsid,
            ckdatabase: ck,
        })
    }
}

async fn json_body(resp: reqwest::Response, what: &str) -> Result<Value> {
    let status = resp.status();
    let text = resp.text().await.map_err(Error::network)?;
    if !status.is_success() {
        return Err(Error::Protocol(format!("{what} answered {status}")));
    }
    serde_json::from_str(&text).map_err(|_| Error::Protocol(format!("{what}: not JSON")))
}

/// The challenge options: JSON, or the `boot_args` JSON inside Apple's HTML page.
fn parse_options(text: &str) -> Value {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return v;
    }
    let marker = "class=\"boot_args\">";
    text.find(marker)
        .and_then(|start| {
            let rest = &text[start + marker.len()..];
            let end = rest.find("</script>")?;
            serde_json::from_str(&rest[..end]).ok()
        })
        .unwrap_or(Value::Null)
}

/// Trusted phone numbers (id, obfuscated number), wherever this year's page keeps them.
fn phone_numbers(options: &Value) -> Vec<(i64, String)> {
    let candidates = [
        "/trustedPhoneNumbers",
        "/direct/twoSV/phoneNumberVerification/trustedPhoneNumbers",
        "/direct/twoSV/bridgeInitiateData/phoneNumberVerification/trustedPhoneNumbers",
        "/phoneNumberVerification/trustedPhoneNumbers",
    ];
    candidates
        .iter()
        .filter_map(|p| options.pointer(p).and_then(Value::as_array))
        .flatten()
        .filter_map(|n| {
            let id = n.get("id").and_then(Value::as_i64)?;
            let shown = n
                .get("obfuscatedNumber")
                .and_then(Value::as_str)
                .unwrap_or("your trusted phone number");
            Some((id, shown.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_from_boot_args_html() {
        let html = r#"<html><script type="application/json" class="boot_args">{"direct":{"twoSV":{"phoneNumberVerification":{"trustedPhoneNumbers":[{"id":1,"obfuscatedNumber":"(•••) •••-••12","pushMode":"sms"}]}}}}</script></html>"#;
        let phones = phone_numbers(&parse_options(html));
        assert_eq!(phones, vec![(1, "(•••) •••-••12".to_string())]);
        let bridge = r#"{"direct":{"twoSV":{"bridgeInitiateData":{"phoneNumberVerification":{"trustedPhoneNumbers":[{"id":3}]}}}}}"#;
        assert_eq!(phone_numbers(&parse_options(bridge))[0].0, 3);
    }
}
