package dev.reliablestore.cluster.audit;

/**
 * One line of an audit log. Never holds an entity's value.
 *
 * @param seq       1, 2, 3… in the file
 * @param time      when the operation completed (ISO-8601 UTC)
 * @param node      the node that performed it
 * @param principal who performed it ({@code ClusterHooks.principal()}, else the OS user)
 * @param op        {@code save}, {@code delete}, {@code reencrypt}, {@code tx-commit}, {@code tx-rollback}
 * @param root      the storage root of the store
 * @param type      the entity type (null for a transaction outcome)
 * @param id        the entity id (null for a transaction outcome)
 * @param version   the entity's version after a save, before a delete (0 for a transaction outcome)
 * @param tx        the transaction id when the operation was part of one, else null
 * @param prev      the hash of the previous record (64 zeros for the first)
 * @param hash      SHA-256 (hex) over the record's JSON text up to, not including, its {@code hash} field
 */
public record AuditRecord(long seq, String time, String node, String principal, String op, String root, String type, String id,
                          long version, String tx, String prev, String hash) {
}
