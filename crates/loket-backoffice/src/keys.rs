//! The district issuing key on disk. The key file is created once, on the server's first start,
//! and never leaves the back office; villages only ever see the public half in the trust list.

use anyhow::{bail, Context};
use ed25519_dalek::SigningKey;
use loket_qr::IssuingKey;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The JSON file holding the district's secret key and who signs with it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DistrictKeyFile {
    /// Kemendagri regency code, `PP.KK`.
    pub district_code: String,
    /// Regency name as printed, e.g. "Kabupaten Pinrang".
    pub district_name: String,
    /// Name printed in the signature block.
    pub signer_name: String,
    /// Title printed in the signature block.
    pub signer_title: String,
    /// The 32-byte Ed25519 seed, hex.
    pub secret_seed_hex: String,
}

impl DistrictKeyFile {
    /// The issuing key this file describes.
    pub fn issuing_key(&self) -> anyhow::Result<IssuingKey> {
        let bytes: Vec<u8> = (0..self.secret_seed_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(self.secret_seed_hex.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<_, _>>()
            .context("secret_seed_hex is not hex")?;
        let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!("secret_seed_hex must be 32 bytes");
        };
        Ok(IssuingKey {
            signing_key: SigningKey::from_bytes(&seed),
            district_code: self.district_code.clone(),
            district_name: self.district_name.clone(),
        })
    }
}

/// Loads the key file at `path`, or creates it from `seed` for the given district.
pub fn load_or_create_district_key(
    path: &Path,
    district_code: &str,
    seed: [u8; 32],
) -> anyhow::Result<DistrictKeyFile> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading key file {}", path.display()))?;
        return serde_json::from_str(&text)
            .with_context(|| format!("parsing key file {}", path.display()));
    }
    let district_name = loket_domain::region_name(district_code)
        .with_context(|| format!("unknown regency code {district_code}"))?
        .to_string();
    let file = DistrictKeyFile {
        district_code: district_code.to_string(),
        signer_name: "Kepala Dinas Kependudukan dan Pencatatan Sipil".to_string(),
        signer_title: district_name.clone(),
        district_name,
        secret_seed_hex: hex(&seed),
    };
    let json = serde_json::to_string_pretty(&file)?;
    write_private(path, json.as_bytes())
        .with_context(|| format!("writing key file {}", path.display()))?;
    Ok(file)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
