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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The merges a site owes ({@code crossSiteConflicts = Merge}, docs/geo-replication.md, Merges).
 * Every site that settles a conflict between two updates merges the losing value into what it
 * holds, as a write of that site, stamped after everything it includes, so its shipper carries it
 * to the others. Why every site and not only the winner's: the state a site keeps after settling
 * counts the loser as included, so a later write made on top of it anywhere may reach the winner's
 * site before the loser itself does, and there would be nothing left to merge. Several sites then
 * make merged writes of one conflict; they conflict in turn and are merged again, and a merge that
 * changes nothing writes nothing, so with a resolver that is a join (a union, a maximum) the sites
 * settle on one value after a round or two.
 *
 * <p>The shipment that settles such a conflict cannot carry the merged write itself (a batch
 * another site shipped is never shipped on), so it leaves a durable marker in the same batch (or
 * ahead of it, when the batch cannot carry it; such a marker waits until the entity's state includes
 * the write it kept, i.e. the batch has landed) — the conflict, sealed like a conflict record, under
 * {@code <root>/Sites/Merges/<Type>} — and the merge
 * is made in a batch of its own that removes the marker by the site's shipper-lease holder, which
 * looks every second. Never by the shipping process: the merged write is the site's own, and
 * stamped by another site's clock running ahead it would carry that clock into the site past its
 * skew guard ({@link LocalWrites} takes a site's own stamps as they are); made at the site, a
 * winner stamped too far ahead refuses the merge with {@link ClockSkewException} until the clocks agree.
 */
final class PendingMerges {

    private static final Logger LOG = LoggerFactory.getLogger(PendingMerges.class);
    static final String KIND = "merge";
    /** Types already reported as not mergeable here, and markers already reported as failing, per site: the log says it once. */
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();
    /** Attempts at one merge while the entity or the marker changes under it (or a lock holds it) before the next round. */
    private static final int ATTEMPTS = 10;
    /** How long a merge may wait for its shipment before that is reported: shipments land within seconds. */
    private static final java.time.Duration WAITS_LONG = java.time.Duration.ofMinutes(1);

    private PendingMerges() {
    }

    static RegistryPath key(EntityStates states, String type) {
        return SiteReplication.mergesKey(states.layout()).child(type);
    }

    /** The marker of {@code c}, owed by the site that settled it. */
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
                try {
                    if (merge(site, writes, type, m.getKey(), m.getValue(), merger, merged)) {
                        made++;
                    }
                } catch (RuntimeException failed) {
                    // one merge that cannot be made now (a value that fails to open, a resolver that throws, a clock
                    // too far ahead, a merged value over the limit) holds up none of the others; it is tried again
                    if (REPORTED.add(site.name() + "/" + type + "/" + m.getKey())) {
                        LOG.warn("site {}: the merge {} of {} is not made yet: {}", site.name(), m.getKey(), type, failed.toString());
                    }
                }
            }
        }
        return made;
    }

    /**
     * One merge: read, merge, write — again while the entity or the marker changes under it, at most
     * {@link #ATTEMPTS} times (then the next round). Returns whether it wrote a merged value.
     */
    private static boolean merge(SiteReplication.Site site, LocalWrites writes, String type, String name, VersionedValue marker,
                                 SiteMerger merger, Consumer<SiteTranslator.Conflict> merged) {
        ClusterRegistry registry = site.registry();
        RegistryPath key = key(site.states(), type);
        ConflictRecords.Opened opened = ConflictRecords.open(site, type, name, marker, KIND);
        ConflictRecord owed = opened.record();
        byte[] lost = owed.lost().value().orElseThrow(() -> new IllegalStateException(
                "the merge " + name + " of " + type + " at site " + site.name() + " has no losing value"));
        for (int attempt = 0; attempt < ATTEMPTS && !Thread.currentThread().isInterrupted(); attempt++) {
            // the marker and the entity are read apart; the commit's conditions hold them together (the first
            // attempt takes the marker as listed: if it went meanwhile, the commit fails and the next looks again)
            Optional<VersionedValue> still = attempt == 0 ? Optional.of(marker) : registry.getValue(key, name);
            if (still.isEmpty()) {
                return false; // made meanwhile, by another process of the site
            }
            LocalWrites.Reading reading = writes.reading(type, List.of(owed.id()));
            LocalWrites.Read read = writes.read(reading, registry.read(ReadBatch.of(reading.reads())));
            SiteState here = read.state(owed.id());
            if (here != null && !includes(here, opened.kept())) {
                // the marker was written ahead of the shipment that settles its conflict (one too large to carry it),
                // and that shipment has not landed: merging now would merge with the state it replaces (with nothing
                // here at all, the entity's tombstone was collected: the marker goes below, as any of a deleted entity)
                if (writes.clock().wallMillis() - owed.settled().toEpochMilli() > WAITS_LONG.toMillis()
                        && REPORTED.add(site.name() + "/" + type + "/" + name + "/waits")) {
                    // a shipment lands within seconds: this one's shipping process died before it did, and the batch
                    // was then settled otherwise, so the write the marker kept may never come (geo-replication.md, Batches)
                    LOG.warn("site {}: the merge {} of {}/{} has waited more than {} for the write it kept (made at {}, stamped {})"
                            + " to land here; it is made once the entity's state includes that write", site.name(), name, type, owed.id(),
                            WAITS_LONG, owed.kept().site(), owed.kept().stamped());
                }
                return false;
            }
            LocalWrites.Found found = read.found().get(owed.id());
            byte[] json = null; // deleted here since: the later delete stands; or the merge changes nothing: only the marker goes
            if (found.exists()) {
                byte[] result = merger.merge(type, owed.id(), found.json(), found.version(), lost);
                if (result == null) {
                    if (REPORTED.add(site.name() + "/" + type)) {
                        LOG.warn("site {}: merges of {} wait: no store of that type is open in this process and no ConflictResolver is"
                                + " registered for a class of that simple name", site.name(), type);
                    }
                    return false;
                }
                json = Arrays.equals(result, found.json()) ? null : result;
            }
            List<BatchCommand> commands = new ArrayList<>();
            LocalWrites.Plan plan = json == null ? null : writes.planMerge(read, owed.id(), json, opened.lost());
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
            if (plan == null) {
                return false;
            }
            merged.accept(new SiteTranslator.Conflict(type, owed.id(), site.name(), plan.written().get(owed.id()), opened.lost(),
                    found.version(), plan.version(owed.id()), SiteTranslator.MERGE));
            return true;
        }
        return false;
    }

    /** Whether {@code state} has seen the write {@code kept} (its vector is at or after kept's). */
    private static boolean includes(SiteState state, SiteState kept) {
        VersionVector.Order o = kept.vector().compare(state.vector());
        return o == VersionVector.Order.BEFORE || o == VersionVector.Order.EQUAL;
    }
}
