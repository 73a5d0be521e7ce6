package dev.reliablestore.cluster;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The cache's ordering rules, driven with change batches as the feed delivers them. */
class EntityCacheTest {

    static final RegistryPath TYPE = RegistryPath.of("R", "Entities", "T");
    static final RegistryPath VERSIONS = TYPE.child(StorageLayout.VERSIONS);

    static EntityCache cache() {
        EntityCache c = new EntityCache(100, Duration.ofHours(1), TYPE, VERSIONS);
        c.start(10);
        return c;
    }

    static ChangeBatch set(long seq, String id) {
        return new ChangeBatch(seq, List.of(new Change.ValueSet(TYPE, id, new VersionedValue(RegistryValue.binary(new byte[1]), seq)),
                new Change.ValueSet(VERSIONS, id, new VersionedValue(RegistryValue.qword(1), seq))));
    }

    static EntityCache.Entry entry(long revision) {
        return new EntityCache.Entry(new byte[0], 1, revision);
    }

    @Test
    void aReadOlderThanTheFeedIsNeverCached() {
        EntityCache c = cache();
        c.onBatch(set(12, "a"));            // a change to "a" at 12 was delivered
        c.fill("a", entry(11), 11);         // a read answered at 11 comes back late: stale, vetoed
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(12), 12);
        assertThat(c.get("a")).isNotNull();
    }

    @Test
    void aChangeDeliveredAfterTheFillRemovesTheEntryButTheWritersEchoDoesNot() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.onBatch(set(11, "a"));            // the echo of the write that produced the entry
        assertThat(c.get("a")).isNotNull();
        c.onBatch(set(13, "a"));
        assertThat(c.get("a")).isNull();
        c.fill("b", entry(13), 13);
        c.onBatch(set(14, "other"));
        assertThat(c.get("b")).isNotNull();
    }

    @Test
    void resyncAndKeyDeletionClearEverything() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.resync(20);
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(15), 15);         // answered before the resync point: vetoed
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(20), 20);
        assertThat(c.get("a")).isNotNull();
        c.onBatch(new ChangeBatch(21, List.of(new Change.KeyDeleted(TYPE))));
        assertThat(c.get("a")).isNull();
    }
}
