//! Operator accounts and the key that opens the village store.
//!
//! The store is encrypted with one random 32-byte [`DatabaseKey`]. The key never touches disk in
//! the clear: each operator's entry in the plaintext keyring (`operators.json` beside
//! `village.sqlite`) holds it wrapped (ChaCha20-Poly1305) under a key that Argon2id derives from
//! that operator's password. Logging in derives, unwraps and hands back the key; a wrong password
//! fails the AEAD tag and says only "wrong user name or password". Adding an operator needs the
//! key in hand, i.e. an unlocked store.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use loket_domain::Lang;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// File name of the keyring, kept beside the store.
pub const KEYRING_FILE: &str = "operators.json";

/// Minimum password length, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The key that opens the SQLCipher store. Zeroed on drop; never printed.
#[derive(Clone)]
pub struct DatabaseKey(Zeroizing<[u8; 32]>);

impl DatabaseKey {
    /// A fresh random key (once per laptop, at first run).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        DatabaseKey(bytes)
    }

    /// A key from known bytes (tests, tools).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DatabaseKey(Zeroizing::new(bytes))
    }

    /// The value for `PRAGMA key`: SQLCipher's raw-key form `"x'…'"`, so no KDF runs on open.
    pub(crate) fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("\"x'{}'\"", hex::encode(self.0.as_ref())))
    }
}

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(…)")
    }
}

/// Who is at the keyboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// Login name: lowercase letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// Shown in the top bar and recorded on applications and audit entries.
    pub display_name: String,
}

/// Logging in failed. Deliberately one variant for unknown user and wrong password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user or wrong password.
    #[error("Nama pengguna atau kata sandi salah")]
    WrongCredentials,
}

impl LoginError {
    /// The message in the operator's language.
    pub fn message(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Id => "Nama pengguna atau kata sandi salah",
            Lang::En => "Wrong user name or password",
        }
    }
}

/// Creating an operator or reading/writing the keyring failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// Password shorter than [`MIN_PASSWORD_CHARS`].
    #[error("Kata sandi minimal 8 karakter")]
    PasswordTooShort,
    /// User name empty, too long or with other characters.
    #[error("Nama pengguna hanya boleh huruf kecil, angka, titik, garis bawah atau tanda hubung (1–32 karakter)")]
    BadUsername,
    /// Display name empty.
    #[error("Nama tampilan wajib diisi")]
    BadDisplayName,
    /// An operator with this user name exists.
    #[error("Nama pengguna sudah dipakai")]
    UsernameTaken,
    /// First-run setup asked for while operators exist.
    #[error("Operator pertama sudah dibuat")]
    AlreadyInitialised,
    /// The file cannot be read or written.
    #[error("daftar operator tidak dapat dibaca atau ditulis: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not parse or uses unknown algorithms.
    #[error("daftar operator rusak: {0}")]
    Corrupt(String),
}

impl KeyringError {
    /// The message in the operator's language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::Id) => self.to_string(),
            (KeyringError::PasswordTooShort, Lang::En) => {
                "Password must be at least 8 characters".into()
            }
            (KeyringError::BadUsername, Lang::En) => {
                "User name may only contain lowercase letters, digits, dots, underscores or hyphens (1–32 characters)".into()
            }
            (KeyringError::BadDisplayName, Lang::En) => "Display name is required".into(),
            (KeyringError::UsernameTaken, Lang::En) => "This user name is already taken".into(),
            (KeyringError::AlreadyInitialised, Lang::En) => {
                "The first operator has already been created".into()
            }
            (KeyringError::Io(e), Lang::En) => {
                format!("The operator list cannot be read or written: {e}")
            }
            (KeyringError::Corrupt(e), Lang::En) => format!("The operator list is damaged: {e}"),
        }
    }
}

/// Argon2id cost parameters, stored per entry so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl Default for KdfParams {
    /// OWASP's Argon2id minimum and the `argon2` crate's default: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        KdfParams {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    username: String,
    display_name: String,
    kdf: String,
    kdf_params: KdfParams,
    salt: String,
    wrap: String,
    nonce: String,
    wrapped_key: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct KeyringFile {
    version: u32,
    operators: Vec<Entry>,
}

const KDF: &str = "argon2id-v19";
const WRAP: &str = "chacha20poly1305";

/// The operators of this laptop and their wrapped copies of the database key.
#[derive(Debug)]
pub struct Keyring {
    path: PathBuf,
    file: KeyringFile,
}

impl Keyring {
    /// Where the keyring of the store at `db_path` lives.
    pub fn path_for_store(db_path: &Path) -> PathBuf {
        db_path.with_file_name(KEYRING_FILE)
    }

    /// Reads the keyring at `path`; a missing file is an empty keyring (first run).
    pub fn load(path: &Path) -> Result<Keyring, KeyringError> {
        let file = match std::fs::read(path) {
            Ok(bytes) => {
                let file: KeyringFile = serde_json::from_slice(&bytes)
                    .map_err(|e| KeyringError::Corrupt(e.to_string()))?;
                if file.version != 1 {
                    return Err(KeyringError::Corrupt(format!(
                        "unknown version {}",
                        file.version
                    )));
                }
                file
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => KeyringFile {
                version: 1,
                operators: Vec::new(),
            },
            Err(e) => return Err(e.into()),
        };
        Ok(Keyring {
            path: path.to_path_buf(),
            file,
        })
    }

    /// No operator yet: the laptop shows the first-run screen.
    pub fn is_empty(&self) -> bool {
        self.file.operators.is_empty()
    }

    /// The operators, without secrets.
    pub fn operators(&self) -> Vec<Operator> {
        self.file
            .operators
            .iter()
            .map(|e| Operator {
                username: e.username.clone(),
                display_name: e.display_name.clone(),
            })
            .collect()
    }

    /// First run: makes the database key and the first operator, and saves the keyring.
    /// Returns the key (the caller creates the encrypted store with it) and the operator.
    pub fn create_first_operator<R: RngCore + CryptoRng>(
        &mut self,
        username: &str,
        display_name: &str,
        password: &str,
        params: KdfParams,
        rng: &mut R,
    ) -> Result<(DatabaseKey, Operator), KeyringError> {
        if !self.is_empty() {
            return Err(KeyringError::AlreadyInitialised);
        }
        let key = DatabaseKey::generate(rng);
        let op = self.add_entry(&key, username, display_name, password, params, rng)?;
        Ok((key, op))
    }

    /// Adds an operator who can open the same store. Needs the key, i.e. an unlocked store.
    pub fn add_operator<R: RngCore + CryptoRng>(
        &mut self,
        key: &DatabaseKey,
        username: &str,
        display_name: &str,
        password: &str,
        params: KdfParams,
        rng: &mut R,
    ) -> Result<Operator, KeyringError> {
        self.add_entry(key, username, display_name, password, params, rng)
    }

    /// Logs in: derives the password key, unwraps the database key.
    pub fn unlock(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(DatabaseKey, Operator), LoginError> {
        let username = username.trim();
        let Some(entry) = self.file.operators.iter().find(|e| e.username == username) else {
            // Spend the same time as a real attempt, so timing does not reveal user names.
            let _ = derive(password, &[0u8; 16], KdfParams::default());
            return Err(LoginError::WrongCredentials);
        };
        let unwrap = || -> Option<DatabaseKey> {
            if entry.kdf != KDF || entry.wrap != WRAP {
                return None;
            }
            let salt = hex::decode(&entry.salt).ok()?;
            let nonce: [u8; 12] = hex::decode(&entry.nonce).ok()?.try_into().ok()?;
            let wrapped = hex::decode(&entry.wrapped_key).ok()?;
            let kek = derive(password, &salt, entry.kdf_params).ok()?;
            let plain = Zeroizing::new(
                ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
                    .decrypt(
                        Nonce::from_slice(&nonce),
                        Payload {
                            msg: &wrapped,
                            aad: aad(&entry.username).as_bytes(),
                        },
                    )
                    .ok()?,
            );
            let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
            Some(DatabaseKey::from_bytes(bytes))
        };
        let key = unwrap().ok_or(LoginError::WrongCredentials)?;
        Ok((
            key,
            Operator {
                username: entry.username.clone(),
                display_name: entry.display_name.clone(),
            },
        ))
    }

    fn add_entry<R: RngCore + CryptoRng>(
        &mut self,
        key: &DatabaseKey,
        username: &str,
        display_name: &str,
        password: &str,
        params: KdfParams,
        rng: &mut R,
    ) -> Result<Operator, KeyringError> {
        let username = username.trim();
        let display_name = display_name.trim();
        if username.is_empty()
            || username.chars().count() > 32
            || !username.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
        {
            return Err(KeyringError::BadUsername);
        }
        if display_name.is_empty() {
            return Err(KeyringError::BadDisplayName);
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(KeyringError::PasswordTooShort);
        }
        if self.file.operators.iter().any(|e| e.username == username) {
            return Err(KeyringError::UsernameTaken);
        }
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let kek = derive(password, &salt, params)?;
        let wrapped = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.0.as_ref(),
                    aad: aad(username).as_bytes(),
                },
            )
            .map_err(|_| KeyringError::Corrupt("key wrapping failed".into()))?;
        let entry = Entry {
            username: username.to_string(),
            display_name: display_name.to_string(),
            kdf: KDF.into(),
            kdf_params: params,
            salt: hex::encode(salt),
            wrap: WRAP.into(),
            nonce: hex::encode(nonce),
            wrapped_key: hex::encode(wrapped),
        };
        let mut next = self.file.clone();
        next.operators.push(entry);
        write_atomically(&self.path, &next)?;
        self.file = next;
        Ok(Operator {
            username: username.to_string(),
            display_name: display_name.to_string(),
        })
    }
}

/// Binds each wrapped key to its user name, so entries cannot be swapped between operators.
fn aad(username: &str) -> String {
    format!("loket-keyring-v1:{username}")
}

fn derive(
    password: &str,
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyringError> {
    let params = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, out.as_mut())
        .map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// Temp file + fsync + rename (+ fsync of the folder), so a crash leaves the old or the new file.
fn write_atomically(path: &Path, file: &KeyringFile) -> Result<(), KeyringError> {
    let json = serde_json::to_vec_pretty(file).map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        std::fs::File::open(dir.unwrap_or(Path::new(".")))?.sync_all()?;
    }
    Ok(())
}
