package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A root that a restore marked as unfinished (Configuration/RestoreInProgress, written by {@code reliablestore restore}
 * before its first change and removed once the restored contents verified) holds part of a backup: the provider
 * refuses to open it, before writing anything, saying who started the restore and how to finish it.
 */
class UnfinishedRestoreTest {

    @TempDir
    Path dir;

    private static final RegistryPath ROOT = RegistryPath.of(EmbeddedFixture.GROUP, "Software", "ReliableStore", "Data");

    @Test
    void aRootMarkedAsAnUnfinishedRestoreIsNotOpenedAndNothingIsWritten() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            // interrupted after its deletes took the configuration (layout, key salt): an open must not create new ones
            registry.commit(WriteBatch.builder().setValue(ROOT.child("Configuration"), "RestoreInProgress", RegistryValue.sz(
                    "{\"started\":\"2026-01-02T03:04:05Z\",\"host\":\"ops-1\",\"user\":\"alice\",\"backup\":\"nightly.rsbackup\"}")).build());
        }
        String before = snapshotDigest();
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build()).close())
                .isInstanceOf(UnfinishedRestoreException.class).isInstanceOf(StoreUnavailableException.class)
                .satisfies(e -> assertThat(((UnfinishedRestoreException) e).marker())
                        .isEqualTo(new RestoreMarker("2026-01-02T03:04:05Z", "ops-1", "alice", "nightly.rsbackup", "?", -1)))
                .hasMessageContaining("a restore into this store (started 2026-01-02T03:04:05Z by alice on ops-1, from nightly.rsbackup)")
                .hasMessageContaining("did not finish").hasMessageContaining("reliablestore restore --force");
        assertThat(snapshotDigest()).as("nothing written").isEqualTo(before);

        // a factory for a check is refused as well; a view of the root reads the mark
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            assertThatThrownBy(() -> ClusterStoreAdmin.openForChecking(EmbeddedFixture.config(dir).build(), registry).close())
                    .isInstanceOf(UnfinishedRestoreException.class);
            assertThat(ClusterStoreAdmin.of(registry, ROOT).unfinishedRestore()).map(RestoreMarker::host).contains("ops-1");
            registry.commit(WriteBatch.builder().deleteValue(ROOT.child("Configuration"), "RestoreInProgress").build());
            assertThat(ClusterStoreAdmin.of(registry, ROOT).unfinishedRestore()).isEmpty();
        }
        try (StoreFactory opened = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            assertThat(opened.providerName()).isEqualTo("cluster-registry");
        }
    }

    /**
     * A store nested in another's root (here ...\Data inside ...\ReliableStore) is deleted and rewritten by a restore
     * into the enclosing root, which marks only that root: the nested store is refused too, a view of it reports the
     * mark, and its scheduled backups skip it (a half-deleted store backed up as good would have its retention prune
     * complete backups).
     */
    @Test
    void aRestoreIntoAnEnclosingRootMarksTheNestedStoreAsUnfinishedToo() throws Exception {
        RegistryPath outer = ROOT.parent();
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            f.store("Note", String.class).save("n", "a note");
        }
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            registry.commit(WriteBatch.builder().setValue(outer.child("Configuration"), "RestoreInProgress", RegistryValue.sz(
                    "{\"started\":\"2026-01-02T03:04:05Z\",\"host\":\"ops-1\",\"user\":\"alice\",\"backup\":\"outer.rsbackup\"}")).build());
            assertThat(ClusterStoreAdmin.of(registry, ROOT).unfinishedRestore()).map(RestoreMarker::backup).contains("outer.rsbackup");
            Path backups = dir.resolve("backups");
            try (dev.reliablestore.cluster.backup.ScheduledBackupsAccess b = dev.reliablestore.cluster.backup.ScheduledBackupsAccess.start(
                    registry, ROOT, backups)) {
                assertThat(b.runOnce()).as("the nested store's scheduled run").isNull();
            }
        }
        String before = snapshotDigest();
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build()).close())
                .isInstanceOf(UnfinishedRestoreException.class).hasMessageContaining("inside " + outer)
                .hasMessageContaining("from outer.rsbackup");
        assertThat(snapshotDigest()).as("nothing written").isEqualTo(before);
    }

    /** Another site's factory (a shipper, a preferred-site reader) does not lay out a marked root anew either. */
    @Test
    void anotherSitesLinkDoesNotLayOutAMarkedRoot() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            registry.commit(WriteBatch.builder().setValue(ROOT.child("Configuration"), "RestoreInProgress", RegistryValue.sz(
                    "{\"started\":\"2026-01-02T03:04:05Z\",\"host\":\"ops-1\",\"user\":\"alice\",\"backup\":\"nightly.rsbackup\"}")).build());
            String before = RegistrySnapshot.take(registry, ROOT).contentDigest();
            assertThatThrownBy(() -> SiteLinks.site(EmbeddedFixture.config(dir).build(), "other", registry, Runnable::run))
                    .isInstanceOf(UnfinishedRestoreException.class).hasMessageContaining("did not finish");
            assertThat(RegistrySnapshot.take(registry, ROOT).contentDigest()).as("no layout, no key salt written").isEqualTo(before);
        }
    }

    private String snapshotDigest() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            return RegistrySnapshot.take(registry, ROOT).contentDigest();
        }
    }

    /** The mark's value round-trips; a value under the mark's name that is no JSON object is still a mark. */
    @Test
    void theMarkRoundTripsAndAnyValueUnderItsNameIsAMark() {
        RestoreMarker m = RestoreMarker.beginning("/backups/nightly.rsbackup", "zookeeper://zk1:2181/rs", 48213);
        assertThat(RestoreMarker.of(m.toValue())).isEqualTo(m);
        assertThat(m.host()).isNotBlank();
        assertThat(RestoreMarker.of(RegistryValue.dword(1))).isEqualTo(new RestoreMarker("?", "?", "?", "?", "?", -1));
        assertThat(RestoreMarker.of(RegistryValue.sz("not json"))).isEqualTo(new RestoreMarker("?", "?", "?", "?", "?", -1));
    }
}
