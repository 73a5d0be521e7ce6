package dev.reliablestore.cluster;

import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.spi.tx.TransactionId;

import java.util.Map;
import java.util.TreeMap;

/**
 * How many stored values of one type each key id protects, from the envelopes' headers only (no key
 * is needed): the one count behind {@link ClusterPersistenceStore#keyUsage()} and
 * {@link ClusterStoreAdmin#keyUsage(String)}. A key may be removed only when nothing counts it, so
 * every place that holds a value sealed with it is counted, read at one point in time.
 */
final class KeyUsage {

    /** The key id under which a prepared transaction record that cannot be read is counted. */
    static final String UNREADABLE_PREPARED = "?";

    /** The key id under which a value in clear is counted. */
    static final String IN_CLEAR = "";

    private KeyUsage() {
    }

    static Map<String, Long> of(RegistryGateway gateway, StorageLayout layout, String type) {
        RegistryPath transactions = layout.root().child(RegistryTransactions.TRANSACTIONS);
        ReadBatchResult r = gateway.read("read of the key usage of " + type, ReadBatch.of(
                new ReadBatch.ValuesRead(layout.dictionaries(type)),
                new ReadBatch.ValuesRead(layout.type(type)),
                new ReadBatch.ValuesRead(layout.type(type).child(StorageLayout.TOMBSTONES)),
                // a merge a site owes (crossSiteConflicts = Merge) holds the losing write sealed in its marker,
                // and may wait without limit for a process that can merge the type: the only copy of that value
                new ReadBatch.ValuesRead(SiteReplication.mergesKey(layout).child(type)),
                // a commit writes a prepared branch's envelopes as they were sealed
                new ReadBatch.ValuesRead(transactions)));
        Map<String, Long> usage = new TreeMap<>();
        for (Map.Entry<String, VersionedValue> d : r.values(0).orElse(Map.of()).entrySet()) {
            byte[] raw = d.getValue().value().unsafeData();
            // a trained dictionary in clear starts with zstd's magic, never with the envelope's
            boolean sealed = raw.length > 0 && raw[0] == EnvelopeCodec.MAGIC;
            count(usage, sealed ? EnvelopeCodec.header(raw, type + " dictionary " + d.getKey()).keyId() : IN_CLEAR);
        }
        for (Map.Entry<String, VersionedValue> e : r.values(1).orElse(Map.of()).entrySet()) {
            if (!e.getKey().equals(StorageLayout.METADATA)) {
                count(usage, e.getValue().value().unsafeData(), type + "/" + e.getKey());
            }
        }
        for (Map.Entry<String, VersionedValue> t : r.values(2).orElse(Map.of()).entrySet()) {
            count(usage, t.getValue().value().unsafeData(), type + "/" + t.getKey() + " (tombstone)");
        }
        for (Map.Entry<String, VersionedValue> m : r.values(3).orElse(Map.of()).entrySet()) {
            count(usage, m.getValue().value().unsafeData(), type + " merge owed for " + m.getKey());
        }
        for (Map.Entry<String, VersionedValue> record : r.values(4).orElse(Map.of()).entrySet()) {
            String name = record.getKey();
            if (!name.startsWith(RegistryTransactions.RECORD_PREFIX)) {
                continue;
            }
            Map<String, Long> prepared = new TreeMap<>();
            try {
                TransactionId id = TransactionId.fromToken(name.substring(RegistryTransactions.RECORD_PREFIX.length()));
                for (RegistryTransactions.EncodedWrite w : RegistryTransactions.decode(id, record.getValue().value())) {
                    if (!w.isDelete() && w.typeName().equals(type)) {
                        count(prepared, w.envelope(), type + "/" + w.id() + " as prepared by " + id);
                    }
                }
            } catch (RuntimeException unreadable) {
                // damaged, or of a newer format: which keys it needs is unknown, which must not read as "none"
                prepared = Map.of(UNREADABLE_PREPARED, 1L);
            }
            prepared.forEach((key, n) -> usage.merge(key, n, Long::sum));
        }
        return usage;
    }

    private static void count(Map<String, Long> usage, byte[] envelope, String where) {
        EnvelopeCodec.Header h = EnvelopeCodec.header(envelope, where);
        count(usage, h.encrypted() ? h.keyId() : IN_CLEAR);
    }

    private static void count(Map<String, Long> usage, String keyId) {
        usage.merge(keyId, 1L, Long::sum);
    }
}
