package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Repairs one site from another (docs/geo-replication.md, Operations): every entity the source
 * holds is merged into the target as a shipped write would be (the later stamp wins; what the
 * target holds that is later is kept), then the target's checkpoint for the source moves to where
 * the source's history stood when the repair began, so the source's shipper ships only what came
 * after. For a site that fell out of the source's retained history, one restored from an old copy,
 * or one seeded for the first time. A conflict it settles is kept as the store's cross-site policy
 * says, in the batch that settles it, as a shipped batch keeps it ({@link SiteTranslator#settle}):
 * a record, or a merge owed that the target's shipper-lease holder makes.
 */
final class SiteResync {

    /** Attempts per group of entities when the target changes under the repair. */
    private static final int ATTEMPTS = 20;

    private final SiteReplication.Site from;
    private final SiteReplication.Site to;
    private final EntityStates source;
    private final EntityStates target;
    /** The target's checkpoint for the source. */
    private final ShipmentLedger ledger;
    private final CrossSiteConflicts policy;
    private final LongSupplier wallMillis;

    SiteResync(SiteReplication.Site from, SiteReplication.Site to, CrossSiteConflicts policy, LongSupplier wallMillis) {
        this.from = from;
        this.to = to;
        this.policy = Objects.requireNonNull(policy, "policy");
        this.wallMillis = Objects.requireNonNull(wallMillis, "wallMillis");
        this.source = from.states();
        this.target = to.states();
        this.ledger = new ShipmentLedger(to.registry(), SiteReplication.ledgerKey(to.layout()), from.name());
    }

    SiteReplication.Resynced run() {
        // where the source's history stands before anything is read: all it holds up to here is merged below
        long checkpoint = SiteReplication.probe(from.registry(), from.layout(), "resync");
        int compared = 0;
        int written = 0;
        for (String type : source.types(from.registry())) {
            Map<String, SiteState> states = states(type);
            compared += states.size();
            List<String> ids = new ArrayList<>(states.keySet());
            int perBatch = Math.max(1, (to.registry().limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS)
                    / LocalWrites.COMMANDS_PER_ENTITY);
            for (int i = 0; i < ids.size(); i += perBatch) {
                written += merge(type, ids.subList(i, Math.min(ids.size(), i + perBatch)), states);
            }
        }
        // at least there: a shipper may have moved it further meanwhile
        ledger.apply(checkpoint, List.of());
        return new SiteReplication.Resynced(checkpoint, compared, written);
    }

    /** Every entity state the source holds of {@code type}: values (stamped or not) and tombstones. */
    private Map<String, SiteState> states(String type) {
        StorageLayout layout = from.layout();
        ReadBatchResult r = from.registry().read(ReadBatch.of(new ReadBatch.ValuesRead(layout.type(type)),
                new ReadBatch.ValuesRead(layout.versions(type)), new ReadBatch.ValuesRead(layout.tombstones(type))));
        Map<String, VersionedValue> envelopes = r.values(0).orElse(Map.of());
        Map<String, VersionedValue> versions = r.values(1).orElse(Map.of());
        Map<String, SiteState> out = new TreeMap<>();
        for (Map.Entry<String, VersionedValue> v : versions.entrySet()) {
            VersionedValue envelope = envelopes.get(v.getKey());
            if (envelope == null) {
                throw new IllegalStateException("site " + from.name() + " holds a version record of " + type + "/" + v.getKey()
                        + " without its value");
            }
            out.put(v.getKey(), source.opened(type, v.getKey(), v.getValue().value().asQword(), envelope.value().asBinary()));
        }
        for (Map.Entry<String, VersionedValue> t : r.values(2).orElse(Map.of()).entrySet()) {
            out.putIfAbsent(t.getKey(), source.tombstone(type, t.getKey(), t.getValue().value().asBinary()));
        }
        return out;
    }

    /** Merges the source's states of {@code ids} into the target in one batch; returns how many it changed. */
    private int merge(String type, List<String> ids, Map<String, SiteState> states) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            List<ReadBatch.Read> reads = new ArrayList<>();
            ids.forEach(id -> reads.addAll(target.reads(type, id)));
            ReadBatchResult read = to.registry().read(ReadBatch.of(reads));
            List<BatchCommand> commands = new ArrayList<>();
            int changed = 0;
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                EntityStates.Current current = target.current(type, id, read, i * EntityStates.READS);
                CrossSiteMerge.Outcome merged = CrossSiteMerge.merge(current.state(), states.get(id));
                if (merged.changed(current.state())) {
                    EntityStates.Written w = target.write(commands, type, id, merged.state(), current);
                    if (merged.conflict()) {
                        SiteTranslator.settle(commands, policy, target, to.registry(), type, id, merged, current, w, wallMillis.getAsLong());
                    }
                    changed++;
                }
            }
            if (commands.isEmpty()) {
                return 0;
            }
            WriteBatch.Builder b = WriteBatch.builder();
            commands.forEach(b::add);
            // room for the checkpoint's two commands the ledger adds
            if (b.build().encodedSize() + LocalWrites.SHIPPED_BATCH_BYTES > to.registry().limits().maxBatchBytes() && ids.size() > 1) {
                // large values: the group in halves, each its own batch (a resync need not be atomic)
                return merge(type, ids.subList(0, ids.size() / 2), states) + merge(type, ids.subList(ids.size() / 2, ids.size()), states);
            }
            try {
                // with the target's checkpoint for the source as it is: the target's shipper takes the batch
                // for one that came from the source, and does not ship it on
                ledger.applyAsFromOrigin(commands);
                return changed;
            } catch (ConditionFailedException raced) {
                // a write at the target (its own, or shipped) landed between the read and the commit: read again
            }
        }
        throw new IllegalStateException("site " + to.name() + " kept changing " + type + " " + ids.get(0) + ".." + ids.get(ids.size() - 1)
                + " during the resync (" + ATTEMPTS + " attempts); run it again");
    }
}
