package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.ConflictRecord;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The merges a site owes ({@code crossSiteConflicts = Merge}, docs/geo-replication.md, Conflicts).
 * A conflict between two updates is merged at one site only — the origin of the write that won, so
 * that every site ends with the same merge and a resolver runs once per conflict — and there as a
 * write of that site, stamped after everything it includes, so its shipper carries it to the
 * others, where it overwrites both writes. The shipment that settles such a conflict at the winner's
 * origin cannot carry that write itself (a batch another site shipped is never shipped on), so it
 * leaves a durable marker in the same batch — the conflict, sealed like a conflict record, under
 * {@code <root>/Sites/Merges/<Type>} — and the merge is made in a batch of its own that removes the
 * marker: right after the shipment lands, and otherwise (a crash, a type this process cannot merge)
 * by the site's shipper-lease holder, which looks every second.
 */
final class PendingMerges {

    private static final Logger LOG = LoggerFactory.getLogger(PendingMerges.class);
    static final String KIND = "merge";
    /** Types already reported as not mergeable here, per site, so the log says it once. */
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

    private PendingMerges() {
    }

    static RegistryPath key(EntityStates states, String type) {
        return SiteReplication.mergesKey(states.layout()).child(type);
    }

    /** The marker of {@code c}, owed by the target site (the winner's origin). */
    static BatchCommand marker(EntityStates target, ClusterRegistry registry, SiteTranslator.Conflict c, long settledMillis) {
        return new BatchCommand.SetValue(key(target, c.type()), ConflictRecords.name(c.loser(), c.id()),
                RegistryValue.binary(ConflictRecords.seal(target, registry, c, settledMillis, KIND)));
    }

    /**
     * Makes every merge {@code site} owes that {@code merger} can make, each in a batch of its own
     * that writes the merged value as a write of {@code site} and removes its marker; tells
     * {@code merged} of each. Returns how many it made.
     *
     * @param clock the clock the merged writes are stamped with (it observes what they replace)
     */
    static int run(SiteReplication.Site site, HybridClock clock, SiteMerger merger, Consumer<SiteTranslator.Conflict> merged) {
        ClusterRegistry registry = site.registry();
        List<String> types;
        try {
            types = registry.subkeys(SiteReplication.mergesKey(site.layout()));
        } catch (NoSuchKeyException none) {
            return 0;
        }
        int made = 0;
        EntityStates states = site.states();
        LocalWrites writes = new LocalWrites(states, clock);
        for (String type : types) {
            Map<String, VersionedValue> markers;
            try {
                markers = registry.values(key(states, type));
            } catch (NoSuchKeyException none) {
                continue;
            }
            for (Map.Entry<String, VersionedValue> m : markers.entrySet()) {
                if (merge(site, writes, type, m.getKey(), m.getValue(), merger, merged)) {
                    made++;
                }
            }
        }
        return made;
    }

    /** One merge: read, merge, write — again while the entity or the marker changes under it. */
    private static boolean merge(SiteReplication.Site site, LocalWrites writes, String type, String name, VersionedValue marker,
                                 SiteMerger merger, Consumer<SiteTranslator.Conflict> merged) {
        ClusterRegistry registry = site.registry();
        RegistryPath key = key(site.states(), type);
        ConflictRecords.Opened opened = ConflictRecords.open(site, type, name, marker, KIND);
        ConflictRecord owed = opened.record();
        byte[] lost = owed.lost().value().orElseThrow(() -> new IllegalStateException(
                "the merge " + name + " of " + type + " at site " + site.name() + " has no losing value"));
        while (true) {
            // the marker and the entity are read apart; the commit's conditions hold them together
            Optional<VersionedValue> still = registry.getValue(key, name);
            if (still.isEmpty()) {
                return false; // made meanwhile, by another process of the site
            }
            LocalWrites.Reading reading = writes.reading(type, List.of(owed.id()));
            LocalWrites.Read read = writes.read(reading, registry.read(ReadBatch.of(reading.reads())));
            LocalWrites.Found found = read.found().get(owed.id());
            List<BatchCommand> commands = new ArrayList<>();
            byte[] json;
            if (!found.exists()) {
                json = null; // deleted here since: the later delete stands, the marker goes
            } else {
                json = merger.merge(type, owed.id(), found.json(), found.version(), lost);
                if (json == null) {
                    if (REPORTED.add(site.name() + "/" + type)) {
                        LOG.warn("site {}: merges of {} wait: no store of that type is open in this process and no ConflictResolver is"
                                + " registered for a class of that simple name", site.name(), type);
                    }
                    return false;
                }
            }
            LocalWrites.Plan plan = json == null ? null : writes.plan(read, Map.of(owed.id(), json));
            if (plan != null) {
                commands.addAll(plan.commands());
            }
            commands.add(new BatchCommand.RevisionEquals(key, name, still.get().revision()));
            commands.add(new BatchCommand.DeleteValue(key, name));
            WriteBatch.Builder b = WriteBatch.builder();
            commands.forEach(b::add);
            try {
                registry.commit(b.build());
            } catch (ConditionFailedException changed) {
                continue;
            }
            if (plan != null) {
                SiteState state = plan.written().get(owed.id());
                merged.accept(new SiteTranslator.Conflict(type, owed.id(), site.name(), state, opened.lost(), found.version(),
                        plan.version(owed.id()), SiteTranslator.MERGE));
            }
            return plan != null;
        }
    }
}
