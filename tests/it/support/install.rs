//! Installs the pinned moto server into `<target>/moto-venv`, once, safely
//! when many test binaries and test threads start at the same time.
//!
//! * Within one process a `OnceLock` makes every thread share one attempt
//!   (and one failure message: a failed install is not retried per test).
//! * Across processes a lock *directory* `<target>/moto-venv.lock` is taken
//!   with `create_dir` (atomic on every platform). The holder writes its pid
//!   into `owner`. Waiters poll; a lock whose owner process is gone (checked
//!   through `/proc/<pid>` where there is a `/proc`), or that is older than
//!   [`STALE_LOCK_AGE`], is broken by renaming it aside and deleting it.
//! * `<venv>/moto-pin.txt` is written (atomically, by rename) only after a
//!   successful install and holds [`PIP_REQUIREMENTS`]; any other content
//!   (a changed pin) or a missing interpreter makes the venv be rebuilt
//!   from scratch.
//!
//! A failure panics with the full command output: a test that needs moto
//! never skips.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// What `pip install` is given. The moto pin is the one that matters; boto3 and
/// botocore are pinned too because moto server reads botocore's service
/// models at run time (which protocols a service accepts, e.g. CloudWatch's
/// awsQuery), so a new botocore release could change the emulator's
/// behaviour under an unchanged moto pin. Changing this list reinstalls.
pub const PIP_REQUIREMENTS: &[&str] = &["moto[server]==5.2.5", "boto3==1.44.5", "botocore==1.44.5"];

/// The moto version the installed package must report.
pub const MOTO_VERSION: &str = "5.2.5";

/// Oldest Python moto 5.2.5 supports (its `Requires-Python: >=3.10`).
const MIN_PYTHON: (u32, u32) = (3, 10);

/// The interpreter used to create the venv; `CIS_FIX_PYTHON` overrides it.
fn python() -> String {
    std::env::var("CIS_FIX_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

const MARKER: &str = "moto-pin.txt";
/// A lock older than this is taken to be left over from a killed run.
const STALE_LOCK_AGE: Duration = Duration::from_secs(30 * 60);
/// A lock directory with no `owner` file yet is stale after this long.
const OWNERLESS_LOCK_AGE: Duration = Duration::from_secs(60);
/// How long to wait for another process's install before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(40 * 60);
/// How long `pip install` may take before it is killed.
const PIP_TIMEOUT: Duration = Duration::from_secs(25 * 60);

/// The cargo target directory: `$CARGO_TARGET_DIR` (relative paths taken
/// from the package root, as cargo does when run there) or
/// `<CARGO_MANIFEST_DIR>/target`.
pub fn target_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                manifest.join(dir)
            }
        }
        _ => manifest.join("target"),
    }
}

/// `<target>/moto-venv`.
pub fn venv_dir() -> PathBuf {
    target_dir().join("moto-venv")
}

fn marker_content() -> String {
    let mut s = PIP_REQUIREMENTS.join("\n");
    s.push('\n');
    s
}

fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// True when the venv holds a finished install of the current pin.
fn is_installed(venv: &Path) -> bool {
    // `exists` follows symlinks: a venv whose base interpreter was removed
    // (say, a pyenv version uninstalled) counts as not installed.
    fs::read_to_string(venv.join(MARKER)).is_ok_and(|m| m == marker_content())
        && venv_python(venv).exists()
        && venv.join("bin").join("moto_server").exists()
}

/// Returns the venv directory, installing moto first if needed. Panics with a
/// full explanation if that fails.
pub fn ensure_moto() -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(install_once) {
        Ok(venv) => venv.clone(),
        Err(msg) => panic!("{msg}"),
    }
}

fn install_once() -> Result<PathBuf, String> {
    let venv = venv_dir();
    if is_installed(&venv) {
        return Ok(venv);
    }
    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| {
        loud(format!(
            "cannot create target dir {}: {e}",
            target.display()
        ))
    })?;
    let _lock = DirLock::acquire(&target.join("moto-venv.lock"), || is_installed(&venv))?;
    // Another process may have finished while we waited.
    if is_installed(&venv) {
        return Ok(venv);
    }
    install(&venv)?;
    Ok(venv)
}

fn loud(msg: String) -> String {
    format!(
        "\n==================== moto test harness: INSTALL FAILED ====================\n\
         {msg}\n\
         The integration tests need moto server ({}) in a Python venv at {}.\n\
         Fix the problem above (Python >= {}.{} with the venv module, and access to PyPI) \
         and run the tests again; delete that directory to force a clean reinstall.\n\
         ===========================================================================\n",
        PIP_REQUIREMENTS.join(" "),
        venv_dir().display(),
        MIN_PYTHON.0,
        MIN_PYTHON.1,
    )
}

/// Runs a short command to completion, returning its combined output.
fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| loud(format!("{what}: could not run {cmd:?}: {e}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(loud(format!(
            "{what}: {cmd:?} failed ({}). Its output:\n{text}",
            out.status
        )))
    }
}

fn python_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("PIP_REQUIRE_VIRTUALENV")
        .env("PIP_NO_INPUT", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    cmd
}

fn install(venv: &Path) -> Result<(), String> {
    let started = Instant::now();
    let py = python();
    eprintln!(
        "moto test harness: installing {} into {} (one-time, about a minute)...",
        PIP_REQUIREMENTS.join(" "),
        venv.display()
    );

    // 1. A new enough interpreter.
    let check = format!(
        "import sys; print(sys.version); sys.exit(0 if sys.version_info >= ({}, {}) else 3)",
        MIN_PYTHON.0, MIN_PYTHON.1
    );
    run(
        python_command(&py).arg("-c").arg(&check),
        "checking the Python version",
    )?;

    // 2. A clean venv.
    if venv.exists() {
        fs::remove_dir_all(venv)
            .map_err(|e| loud(format!("cannot remove old venv {}: {e}", venv.display())))?;
    }
    run(
        python_command(&py).arg("-m").arg("venv").arg(venv),
        "creating the venv (on Debian/Ubuntu the python3-venv package provides it)",
    )?;

    // 3. pip install, with its output in a log file and a time limit.
    let log_path = target_dir().join("moto-venv-install.log");
    let log = fs::File::create(&log_path)
        .map_err(|e| loud(format!("cannot create {}: {e}", log_path.display())))?;
    let log_err = log
        .try_clone()
        .map_err(|e| loud(format!("cannot clone log file handle: {e}")))?;
    let mut pip = python_command(venv_python(venv));
    pip.args([
        "-m",
        "pip",
        "install",
        "--no-input",
        "--progress-bar",
        "off",
    ])
    .args(PIP_REQUIREMENTS)
    .stdin(Stdio::null())
    .stdout(log)
    .stderr(log_err);
    let mut child = pip
        .spawn()
        .map_err(|e| loud(format!("could not run {pip:?}: {e}")))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > PIP_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(loud(format!("waiting for pip: {e}"))),
        }
    };
    let pip_output = fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => {}
        Some(s) => {
            return Err(loud(format!(
                "`pip install {}` failed ({s}). pip's output (also in {}):\n{pip_output}",
                PIP_REQUIREMENTS.join(" "),
                log_path.display()
            )));
        }
        None => {
            return Err(loud(format!(
                "`pip install {}` did not finish within {:?} and was killed. \
                 pip's output (also in {}):\n{pip_output}",
                PIP_REQUIREMENTS.join(" "),
                PIP_TIMEOUT,
                log_path.display()
            )));
        }
    }

    // 4. The server imports and is the pinned version.
    let version = run(
        python_command(venv_python(venv))
            .arg("-c")
            .arg("import moto, moto.server; print(moto.__version__)"),
        "importing the installed moto server",
    )?;
    if version.trim() != MOTO_VERSION {
        return Err(loud(format!(
            "installed moto reports version {:?}, expected {MOTO_VERSION}. pip's output:\n{pip_output}",
            version.trim()
        )));
    }

    // 5. Only now mark the venv as complete.
    let tmp = venv.join(format!("{MARKER}.tmp{}", std::process::id()));
    fs::write(&tmp, marker_content())
        .and_then(|()| fs::rename(&tmp, venv.join(MARKER)))
        .map_err(|e| {
            loud(format!(
                "cannot write install marker in {}: {e}",
                venv.display()
            ))
        })?;

    eprintln!(
        "moto test harness: moto {MOTO_VERSION} installed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A cross-process lock: a directory created with `create_dir`; removed on drop.
struct DirLock {
    path: PathBuf,
}

impl DirLock {
    /// Waits for the lock. Returns early (without the lock) as soon as `done()`
    /// says the work the lock guards has been finished by someone else; the
    /// caller re-checks that after this returns either way.
    fn acquire(path: &Path, done: impl Fn() -> bool) -> Result<Option<DirLock>, String> {
        let started = Instant::now();
        let mut announced = false;
        loop {
            match fs::create_dir(path) {
                Ok(()) => {
                    let owner = format!("pid={}\n", std::process::id());
                    let _ = fs::write(path.join("owner"), owner);
                    return Ok(Some(DirLock {
                        path: path.to_path_buf(),
                    }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(loud(format!(
                        "cannot create lock directory {}: {e}",
                        path.display()
                    )));
                }
            }
            if done() {
                return Ok(None);
            }
            if let Some(why) = stale_reason(path) {
                eprintln!(
                    "moto test harness: breaking stale lock {} ({why})",
                    path.display()
                );
                let aside = path.with_extension(format!(
                    "stale-{}-{}",
                    std::process::id(),
                    SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_nanos())
                        .unwrap_or_default()
                ));
                // Renaming is atomic: of several waiters that found it stale,
                // only one moves it, and nobody deletes a lock just taken.
                if fs::rename(path, &aside).is_ok() {
                    let _ = fs::remove_dir_all(&aside);
                }
                continue;
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(loud(format!(
                    "waited {LOCK_WAIT:?} for another process installing moto (lock {}). \
                     If no such process is running, delete that directory.",
                    path.display()
                )));
            }
            if !announced {
                eprintln!(
                    "moto test harness: waiting for another process to finish installing moto (lock {})",
                    path.display()
                );
                announced = true;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Why the lock at `path` should be broken, if it should.
fn stale_reason(path: &Path) -> Option<String> {
    let age = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or_default();
    if age > STALE_LOCK_AGE {
        return Some(format!("{}s old", age.as_secs()));
    }
    let owner = fs::read_to_string(path.join("owner")).ok();
    let pid = owner
        .as_deref()
        .and_then(|o| o.trim().strip_prefix("pid="))
        .and_then(|p| p.parse::<u32>().ok());
    match pid {
        None if age > OWNERLESS_LOCK_AGE => Some("no owner recorded".to_string()),
        None => None,
        Some(pid)
            if Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists() =>
        {
            Some(format!("owner pid {pid} is gone"))
        }
        Some(_) => None,
    }
}
