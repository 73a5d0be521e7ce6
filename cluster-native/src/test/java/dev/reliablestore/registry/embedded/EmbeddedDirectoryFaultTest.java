package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The directory's own durability, failing: its fsync (what makes a new or renamed segment, and a
 * renamed snapshot, survive a power loss) and the renames. A rotation that cannot make its new
 * segment durable stops the registry as a failed log fsync does; a snapshot that cannot be renamed
 * is given up, and the log that it would have replaced is kept. Nothing acknowledged is lost.
 */
class EmbeddedDirectoryFaultTest {

    @TempDir
    Path dir;

    private final List<ClusterRegistry> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(ClusterRegistry::close);
    }

    private EmbeddedRegistry open(Map<String, String> options, ChannelFactory channels) {
        EmbeddedRegistry r = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(options), channels);
        opened.add(r);
        return r;
    }

    private void closeOpened() {
        opened.forEach(ClusterRegistry::close);
        opened.clear();
    }

    private static void putBig(ClusterRegistry r, int i) {
        r.commit(WriteBatch.builder().setValue(RegistryPath.parse("big/" + i), "v", RegistryValue.binary(new byte[4096])).build());
    }

    /** Writes until the registry refuses a write; returns how many it acknowledged (0 .. n-1). */
    private static int putUntilStopped(EmbeddedRegistry r, int from, String because) {
        int i = from;
        while (true) {
            assertThat(i).as("the registry stopped within 1,000 writes").isLessThan(from + 1_000);
            try {
                putBig(r, i);
            } catch (RegistryStoppedException e) {
                assertThat(e).hasMessageContaining("stopped accepting writes").hasMessageContaining(because)
                        .hasMessageContaining("reopen");
                return i;
            }
            i++;
        }
    }

    private void assertAllPresentAfterReopen(int acknowledged) {
        EmbeddedRegistry again = open(Map.of(), ChannelFactory.DEFAULT);
        for (int k = 0; k < acknowledged; k++) {
            assertThat(again.keyExists(RegistryPath.parse("big/" + k))).as("acknowledged write %d", k).isTrue();
        }
        putBig(again, acknowledged + 1);
        assertThat(again.checkHealth().healthy()).isTrue();
    }

    @Test
    void aRotationWhoseDirectoryFsyncFailsStopsWritesAndLosesNothingAcknowledged() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "64KiB"), FaultyChannel.factory(faults, f -> f.equals(dir)));
        faults.failForce = true; // after the first segment was created
        int acknowledged = putUntilStopped(r, 0, "injected fsync failure");
        assertThat(faults.forceFailures).as("the directory's fsync failed").isPositive();
        assertThat(acknowledged).as("writes went on until the log rotated").isGreaterThan(10);
        assertThatThrownBy(() -> putBig(r, acknowledged + 1)).isInstanceOf(RegistryStoppedException.class);
        assertThat(r.checkHealth().healthy()).isFalse();
        closeOpened();
        assertAllPresentAfterReopen(acknowledged);
    }

    @Test
    void aRotationIntoTheSpareWhoseRenameFailsStopsWritesAndLosesNothingAcknowledged() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "1MiB"), FaultyChannel.factory(faults, f -> false));
        int i = 0;
        while (r.segmentBytes() < 64 * 1024) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(30)).until(r::spareReady);
        faults.failRenamesTo = f -> f.getFileName().toString().startsWith("wal-");
        int acknowledged = putUntilStopped(r, i, "injected rename failure");
        assertThat(faults.renameFailures).isEqualTo(1);
        assertThat(WriteAheadLog.segments(dir)).as("no segment was renamed into place").hasSize(1);
        closeOpened();
        assertAllPresentAfterReopen(acknowledged);
    }

    @Test
    void aSnapshotWhoseRenameFailsIsGivenUpAndTheLogItWouldHaveReplacedIsKept() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        faults.failRenamesTo = f -> f.getFileName().toString().startsWith("snapshot-");
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "64KiB"), FaultyChannel.factory(faults, f -> false));
        int i = 0;
        while (faults.renameFailures == 0) {
            assertThat(i).as("a snapshot was tried within 1,000 writes").isLessThan(1_000);
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !r.snapshotInProgress());
        assertThat(SnapshotFiles.list(dir)).isEmpty();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("the failed snapshot's .tmp")
                    .noneMatch(n -> n.startsWith("snapshot-") && n.endsWith(".tmp"));
        }
        assertThat(WriteAheadLog.segments(dir)).as("every segment since the start is kept").hasSizeGreaterThanOrEqualTo(2);
        assertThat(WriteAheadLog.firstSequence(WriteAheadLog.segments(dir).get(0))).isEqualTo(1);
        putBig(r, i++);
        assertThat(r.checkHealth().healthy()).isTrue();
        closeOpened();
        assertAllPresentAfterReopen(i);
    }

    /** The feed's floor is written on the first open: when it cannot be made durable, the open fails and releases the directory. */
    @Test
    void anOpenWhoseFeedFloorCannotBeMadeDurableFailsNamingTheCause() {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        faults.failForce = true;
        assertThatThrownBy(() -> open(Map.of(), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith(FeedHistory.FLOOR_FILE))))
                .isInstanceOf(dev.reliablestore.registry.RegistryUnavailableException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("injected fsync failure");
        assertThat(faults.forceFailures).isEqualTo(1);
        assertAllPresentAfterReopen(0);
    }

    @Test
    void theDefaultChannelsMakeTheDirectoryDurableAndRename() throws IOException {
        Path from = Files.writeString(dir.resolve("a"), "x");
        ChannelFactory.DEFAULT.move(from, dir.resolve("b"));
        ChannelFactory.DEFAULT.syncDirectory(dir);
        assertThat(dir.resolve("a")).doesNotExist();
        assertThat(dir.resolve("b")).hasContent("x");
    }
}
