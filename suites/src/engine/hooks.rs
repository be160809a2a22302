//! Calling the SUT's hooks: a command (argv, in the manifest's directory) or an
//! HTTP request, each bounded by the hook's timeout.

use std::path::Path;

use crate::manifest::Hook;

/// The environment variable (command hooks) and header (HTTP hooks) that tell
/// the SUT where the simulator it must use listens, e.g. `http://127.0.0.1:PORT`.
pub const SIMULATOR_ENV: &str = "NGSIM_SIMULATOR";
/// See [`SIMULATOR_ENV`].
pub const SIMULATOR_HEADER: &str = "x-ngsim-simulator";

/// Run a hook; returns its output (stdout or response body) on success.
pub async fn call(name: &str, hook: &Hook, base_dir: &Path) -> Result<Vec<u8>, String> {
    call_for(name, hook, base_dir, None).await
}

/// Run a hook, telling the SUT the simulator's base URL (an embedded simulator
/// listens on a port chosen at start, so the SUT cannot be configured ahead).
pub async fn call_for(
    name: &str,
    hook: &Hook,
    base_dir: &Path,
    simulator: Option<&str>,
) -> Result<Vec<u8>, String> {
    let run = async {
        if let Some(argv) = &hook.command {
            let (program, args) = argv.split_first().ok_or("empty command")?;
            let mut cmd = tokio::process::Command::new(program);
            if let Some(url) = simulator {
                cmd.env(SIMULATOR_ENV, url);
            }
            let out = cmd
                .args(args)
                .current_dir(base_dir)
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|e| format!("cannot run `{program}`: {e}"))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                return Err(format!("exited with {}: {}", out.status, err.trim()));
            }
            Ok(out.stdout)
        } else if let Some(http) = &hook.http {
            let method = reqwest::Method::from_bytes(http.method.as_bytes())
                .map_err(|_| format!("bad HTTP method `{}`", http.method))?;
            let mut req = reqwest::Client::new().request(method, &http.url);
            if let Some(url) = simulator {
                req = req.header(SIMULATOR_HEADER, url);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| format!("{} {}: {e}", http.method, http.url))?;
            let status = resp.status();
            let body = resp.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                let said: String = String::from_utf8_lossy(&body).chars().take(300).collect();
                return Err(format!(
                    "{} {} answered {status}: {}",
                    http.method,
                    http.url,
                    said.trim()
                ));
            }
            Ok(body.to_vec())
        } else {
            Err("the hook has neither `command` nor `http`".into())
        }
    };
    match tokio::time::timeout(hook.timeout, run).await {
        Ok(r) => r.map_err(|e| format!("hook `{name}`: {e}")),
        Err(_) => Err(format!(
            "hook `{name}` did not finish within {:?}",
            hook.timeout
        )),
    }
}

/// Parse a `processed` hook's answer: a JSON array of control ids, or an
/// object with a `processed` array.
pub fn parse_processed(body: &[u8]) -> Result<Vec<String>, String> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the `processed` hook did not answer JSON: {e}"))?;
    let list = v.get("processed").unwrap_or(&v);
    list.as_array()
        .ok_or("the `processed` hook must answer a JSON array of control ids (or {\"processed\": [...]})")?
        .iter()
        .map(|x| x.as_str().map(str::to_owned).ok_or_else(|| format!("not a string: {x}")))
        .collect()
}
