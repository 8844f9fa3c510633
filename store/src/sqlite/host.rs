//! Host data: small JSON values the host keeps beside the engine (credentials, API keys,
//! webhook settings), keyed by tenant, namespace and key. Writes are staged like engine
//! steps and land in the same transaction, so an engine command and the host data it
//! implies are committed together or not at all.

use rusqlite::{Transaction, params};

use super::durable::DurableEngine;
use crate::StoreError;
use crate::query::HostValue;

/// The longest namespace and key, in bytes.
pub const MAX_HOST_KEY_BYTES: usize = 256;
/// The longest value, in bytes.
pub const MAX_HOST_VALUE_BYTES: usize = 64 * 1024;

/// A staged write: a value, or `None` to delete the key.
#[derive(Debug, Clone)]
pub(crate) struct HostWrite {
    tenant_id: String,
    namespace: String,
    key: String,
    value: Option<String>,
}

impl DurableEngine {
    /// Stages a host value (or its removal, with `None`) for the next commit.
    pub fn stage_host_value(
        &mut self,
        tenant_id: &str,
        namespace: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        for (field, text) in [
            ("tenant_id", tenant_id),
            ("namespace", namespace),
            ("key", key),
        ] {
            if text.len() > MAX_HOST_KEY_BYTES {
                return Err(StoreError::invalid(field, "longer than 256 bytes"));
            }
        }
        if namespace.is_empty() || key.is_empty() {
            return Err(StoreError::invalid(
                "key",
                "namespace and key may not be empty",
            ));
        }
        if value.is_some_and(|value| value.len() > MAX_HOST_VALUE_BYTES) {
            return Err(StoreError::invalid("value", "longer than 64 KiB"));
        }
        self.push_host_write(HostWrite {
            tenant_id: tenant_id.to_owned(),
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            value: value.map(str::to_owned),
        })
    }

    /// Every committed value of a namespace, all tenants, ordered by tenant and key.
    pub fn host_values(&self, namespace: &str) -> Result<Vec<HostValue>, StoreError> {
        let mut statement = self.connection().prepare(
            "SELECT tenant_id, key, value FROM host_values WHERE namespace = ?1
             ORDER BY tenant_id, key",
        )?;
        let rows = statement.query_map(params![namespace], |row| {
            Ok(HostValue {
                tenant_id: row.get(0)?,
                key: row.get(1)?,
                value: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Writes staged host values inside the commit's transaction.
pub(crate) fn write(tx: &Transaction<'_>, writes: &[HostWrite]) -> Result<(), StoreError> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO host_values (tenant_id, namespace, key, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, namespace, key) DO UPDATE SET value = excluded.value",
    )?;
    let mut delete = tx.prepare_cached(
        "DELETE FROM host_values WHERE tenant_id = ?1 AND namespace = ?2 AND key = ?3",
    )?;
    for write in writes {
        match &write.value {
            Some(value) => {
                upsert.execute(params![write.tenant_id, write.namespace, write.key, value])?;
            }
            None => {
                delete.execute(params![write.tenant_id, write.namespace, write.key])?;
            }
        }
    }
    Ok(())
}
