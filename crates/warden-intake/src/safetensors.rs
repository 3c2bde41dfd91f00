//! safetensors header validation: an 8-byte little-endian header length, a JSON header
//! naming each tensor's dtype, shape and `[start, end)` data offsets, then the data.
//! Offsets must tile the data section exactly, and each tensor's byte length must equal
//! its element count times its dtype's size.

use std::collections::BTreeMap;
use std::io::Read;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SafetensorsError {
    #[error("the file is too short for a safetensors header")]
    Short,
    #[error("the header length {0} is larger than the file or the 100 MB limit")]
    HeaderTooLarge(u64),
    #[error("the header is not a JSON object: {0}")]
    Json(String),
    #[error("tensor `{0}`: {1}")]
    Tensor(String, String),
    #[error("tensors do not tile the data section: {0}")]
    Layout(String),
}

const MAX_HEADER: u64 = 100 * 1024 * 1024;

fn dtype_size(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E4M3" | "F8_E5M2" => 1,
        "U16" | "I16" | "F16" | "BF16" => 2,
        "U32" | "I32" | "F32" => 4,
        "U64" | "I64" | "F64" => 8,
        _ => return None,
    })
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// A validated header: tensor names with dtype and shape, and the metadata map.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    pub tensors: BTreeMap<String, (String, Vec<u64>)>,
    pub metadata: BTreeMap<String, String>,
    pub header_bytes: u64,
    pub data_bytes: u64,
}

/// Validates a safetensors file of `file_len` bytes read from `input` (only the header
/// is read).
pub fn validate<R: Read>(mut input: R, file_len: u64) -> Result<Header, SafetensorsError> {
    let mut len = [0u8; 8];
    input.read_exact(&mut len).map_err(|_| SafetensorsError::Short)?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER || n.saturating_add(8) > file_len {
        return Err(SafetensorsError::HeaderTooLarge(n));
    }
    let mut header = vec![0u8; n as usize];
    input.read_exact(&mut header).map_err(|_| SafetensorsError::Short)?;
    let raw: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| SafetensorsError::Json(e.to_string()))?;
    let data_bytes = file_len - 8 - n;
    let mut out = Header { tensors: BTreeMap::new(), metadata: BTreeMap::new(), header_bytes: n, data_bytes };
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    for (name, v) in raw {
        if name == "__metadata__" {
            out.metadata = serde_json::from_value(v)
                .map_err(|_| SafetensorsError::Json("__metadata__ must map strings to strings".into()))?;
            continue;
        }
        let e: Entry =
            serde_json::from_value(v).map_err(|err| SafetensorsError::Tensor(name.clone(), err.to_string()))?;
        let size = dtype_size(&e.dtype)
            .ok_or_else(|| SafetensorsError::Tensor(name.clone(), format!("unknown dtype `{}`", e.dtype)))?;
        let count = e
            .shape
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .ok_or_else(|| SafetensorsError::Tensor(name.clone(), "shape overflows".into()))?;
        let [start, end] = e.data_offsets;
        if end < start {
            return Err(SafetensorsError::Tensor(name, "data_offsets end before they start".into()));
        }
        if count.checked_mul(size) != Some(end - start) {
            return Err(SafetensorsError::Tensor(
                name,
                format!("{} bytes for {count} elements of {}", end - start, e.dtype),
            ));
        }
        if end > data_bytes {
            return Err(SafetensorsError::Tensor(
                name,
                format!("data ends at {end}, past the {data_bytes}-byte data section"),
            ));
        }
        spans.push((start, end, name.clone()));
        out.tensors.insert(name, (e.dtype, e.shape));
    }
    spans.sort();
    let mut at = 0;
    for (start, end, name) in &spans {
        if *start != at {
            return Err(SafetensorsError::Layout(format!(
                "`{name}` starts at {start}, expected {at} (a gap or an overlap)"
            )));
        }
        at = *end;
    }
    if at != data_bytes {
        return Err(SafetensorsError::Layout(format!("tensors cover {at} of {data_bytes} data bytes")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn check(header: &str, data: usize) -> Result<Header, SafetensorsError> {
        let f = file(header, data);
        validate(&f[..], f.len() as u64)
    }

    #[test]
    fn accepts_a_well_formed_file() {
        let h = check(
            r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}"#,
            32,
        )
        .unwrap();
        assert_eq!(h.tensors["a"], ("F32".to_string(), vec![2, 3]));
        assert_eq!(h.metadata["format"], "pt");
        assert_eq!(h.data_bytes, 32);
    }

    #[test]
    fn rejects_lies_in_the_header() {
        let wrong_size = r#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#;
        assert!(matches!(check(wrong_size, 20), Err(SafetensorsError::Tensor(..))));
        let past_end = r#"{"a":{"dtype":"U8","shape":[100],"data_offsets":[0,100]}}"#;
        assert!(matches!(check(past_end, 10), Err(SafetensorsError::Tensor(..))));
        let overlap = r#"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}}"#;
        assert!(matches!(check(overlap, 12), Err(SafetensorsError::Layout(_))));
        let trailing = r#"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#;
        assert!(matches!(check(trailing, 16), Err(SafetensorsError::Layout(_))));
        let dtype = r#"{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#;
        assert!(matches!(check(dtype, 16), Err(SafetensorsError::Tensor(..))));
        let overflow = r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#;
        assert!(matches!(check(overflow, 8), Err(SafetensorsError::Tensor(..))));
        assert!(matches!(check("[1,2]", 0), Err(SafetensorsError::Json(_))));
        assert!(matches!(
            check(r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}"#, 1),
            Err(SafetensorsError::Tensor(..))
        ));
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(matches!(validate(&huge[..], huge.len() as u64), Err(SafetensorsError::HeaderTooLarge(_))));
        assert_eq!(validate(&b"abc"[..], 3), Err(SafetensorsError::Short));
    }
}
