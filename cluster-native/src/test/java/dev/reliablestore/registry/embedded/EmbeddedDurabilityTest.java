package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** What the embedded backend does with damaged files, failing disks, snapshots and bad options. */
class EmbeddedDurabilityTest {

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

    private EmbeddedRegistry open() {
        return open(Map.of(), ChannelFactory.DEFAULT);
    }

    private static RegistryPath p(String s) {
        return RegistryPath.parse(s);
    }

    private static CommitResult put(ClusterRegistry r, int i) {
        return r.commit(WriteBatch.builder()
                .setValue(p("k/" + i), "a", RegistryValue.dword(i))
                .setValue(p("k/" + i), "b", RegistryValue.sz("value " + i)).build());
    }

    private static Map<String, VersionedValue> dump(ClusterRegistry r) {
        Map<String, VersionedValue> out = new TreeMap<>();
        dumpInto(r, RegistryPath.root(), out);
        return out;
    }

    private static void dumpInto(ClusterRegistry r, RegistryPath key, Map<String, VersionedValue> out) {
        r.values(key).forEach((n, v) -> out.put(key + ":" + n, v));
        out.put(key + "/", new VersionedValue(RegistryValue.dword(0), Long.MAX_VALUE));
        for (String c : r.subkeys(key)) {
            dumpInto(r, key.child(c), out);
        }
    }

    private Path onlySegment() throws IOException {
        List<Path> segments = WriteAheadLog.segments(dir);
        assertThat(segments).hasSize(1);
        return segments.get(0);
    }


    private void closeOpened() {
        opened.forEach(ClusterRegistry::close);
        opened.clear();
    }

    // ---- torn and corrupted logs ------------------------------------------------------------

    /**
     * Recovery cuts a torn tail and forces the cut before the registry opens; a disk that fails
     * that fsync fails the open (the cut may not be durable, and appending after an unforced cut
     * could leave the torn bytes behind new records), names the cause and releases the directory.
     */
    @Test
    void aTornTailWhoseCutCannotBeForcedFailsTheOpenAndReleasesTheDirectory() throws Exception {
        fiveBatchesTheLastOneTorn();
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        faults.failForce = true;
        assertThatThrownBy(() -> open(Map.of(), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-"))))
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("cannot open the embedded registry")
                .hasMessageContaining("Input/output error")
                // the failed fsync is the cut's own, not the one that later makes all recovered records durable
                .hasMessageNotContaining("what recovery read may not be on disk");
        assertThat(faults.forceFailures).as("the cut's fsync went through the seam").isEqualTo(1);
        EmbeddedRegistry again = open();
        assertThat(again.getValue(p("k/3"), "a")).isPresent();
        assertThat(again.keyExists(p("k/4"))).isFalse();
        assertThat(again.currentSequence()).isEqualTo(4);
    }

    /** Commits five batches, closes, and cuts the last record short as a crash would; returns the segment. */
    private Path fiveBatchesTheLastOneTorn() throws IOException {
        EmbeddedRegistry r = open();
        for (int i = 0; i < 5; i++) {
            put(r, i);
        }
        closeOpened();
        Path segment = onlySegment();
        long size = Files.size(segment);
        try (var ch = java.nio.channels.FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(size - 7); // the crash cut the last record short
        }
        return segment;
    }

    @Test
    void aTornLastRecordIsTruncatedWithAWarning() throws Exception {
        Path segment = fiveBatchesTheLastOneTorn();
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry again = open();
            assertThat(again.getValue(p("k/3"), "a")).isPresent();
            assertThat(again.keyExists(p("k/4"))).isFalse();
            assertThat(again.currentSequence()).isEqualTo(4);
            // the next batch reuses no revision of a batch that was acknowledged
            assertThat(put(again, 9).sequence()).isEqualTo(5);
        });
        assertThat(log).contains("WARN").contains("torn record at offset").contains(segment.getFileName().toString());
        closeOpened();
        EmbeddedRegistry third = open();
        assertThat(third.getValue(p("k/9"), "a")).isPresent();
        assertThat(third.currentSequence()).isEqualTo(5);
    }

    /**
     * The segment is preallocated with zeros while open and cut to its records on a clean close; a
     * directory written before preallocation (records up to the end of the file) opens as before.
     */
    @Test
    void segmentsArePreallocatedWhileOpenAndCutToTheirRecordsOnClose() throws Exception {
        EmbeddedRegistry r = open();
        for (int i = 0; i < 3; i++) {
            put(r, i);
        }
        Path segment = onlySegment();
        assertThat(Files.size(segment)).as("preallocated").isGreaterThan(r.segmentBytes());
        long records = r.segmentBytes();
        closeOpened();
        assertThat(Files.size(segment)).isEqualTo(records);
        EmbeddedRegistry again = open(); // the layout of before: no zeros after the records
        assertThat(again.currentSequence()).isEqualTo(3);
        put(again, 3);
        closeOpened();
        assertThat(dump(open())).containsKeys("k/0:a", "k/1:a", "k/2:a", "k/3:a");
    }

    /**
     * A flush of {@link WriteAheadLog#APPEND_FLUSH_BYTES} or more that reaches past the zeros extends
     * the segment to its records and writes no zeros after them (an ASYNC backlog's flushes would
     * otherwise write every byte twice); the next small flush writes zeros ahead again.
     */
    @Test
    void aLargeFlushAppendsWithoutZerosAndASmallOneWritesThemAgain() throws Exception {
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "1MiB"), ChannelFactory.DEFAULT); // zeros in steps of 128 KiB
        put(r, 0);
        Path segment = onlySegment();
        long zerosEnd = Files.size(segment);
        assertThat(zerosEnd).as("preallocated").isGreaterThan(r.segmentBytes());
        byte[] large = new byte[WriteAheadLog.APPEND_FLUSH_BYTES + 1024];
        r.commit(WriteBatch.builder().setValue(p("k/large"), "a", RegistryValue.binary(large)).build());
        assertThat(r.segmentBytes()).isGreaterThan(zerosEnd);
        assertThat(Files.size(segment)).as("appended, no zeros after it").isEqualTo(r.segmentBytes());
        put(r, 1);
        assertThat(Files.size(segment)).as("zeros ahead again").isGreaterThan(r.segmentBytes());
        closeOpened();
        assertThat(dump(open())).containsKeys("k/0:a", "k/large:a", "k/1:a");
    }

    /**
     * Once a segment holds half a step of records, the next one is prepared in the background, and
     * the log rotates into it before the zeros run out (no snapshot: the threshold is far): the
     * commit that would have written a step of zeros finds a whole segment of them. A clean close
     * deletes the spare prepared meanwhile.
     */
    @Test
    void theLogRotatesIntoASparePreparedInTheBackgroundBeforeItsZerosRunOut() throws Exception {
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "1MiB"), ChannelFactory.DEFAULT); // steps of 128 KiB, spares of 1 MiB
        Path first = onlySegment();
        int i = 0;
        while (r.segmentBytes() < 64 * 1024) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(30)).until(r::spareReady);
        assertThat(Files.size(dir.resolve(WriteAheadLog.SPARE))).isEqualTo(1 << 20);
        long zerosEnd = Files.size(first);
        while (WriteAheadLog.segments(dir).size() == 1) {
            assertThat(r.segmentBytes()).as("rotated before the zeros ran out").isLessThan(zerosEnd);
            putBig(r, i++);
        }
        List<Path> segments = WriteAheadLog.segments(dir);
        assertThat(segments).hasSize(2);
        assertThat(Files.size(first)).as("cut to its records").isLessThan(zerosEnd);
        assertThat(Files.size(segments.get(1))).as("the spare, renamed").isEqualTo(1 << 20);
        assertThat(dir.resolve(WriteAheadLog.SPARE)).doesNotExist();
        assertThat(SnapshotFiles.list(dir)).as("no snapshot below the threshold").isEmpty();
        while (SnapshotFiles.list(dir).isEmpty() && WriteAheadLog.segments(dir).size() == 2) {
            putBig(r, i++);
        }
        segments = WriteAheadLog.segments(dir);
        assertThat(segments).as("the threshold counts both segments' records").hasSize(3);
        assertThat(Files.size(first) + Files.size(segments.get(1))).isBetween(1L << 20, (1L << 20) + 8192);
        await().atMost(Duration.ofSeconds(30)).until(() -> !SnapshotFiles.list(dir).isEmpty());
        while (r.segmentBytes() < 64 * 1024) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(30)).until(r::spareReady);
        closeOpened();
        assertThat(dir.resolve(WriteAheadLog.SPARE)).as("deleted on close").doesNotExist();
        EmbeddedRegistry again = open(Map.of("snapshotThreshold", "1MiB"), ChannelFactory.DEFAULT);
        for (int k = 0; k < i; k++) {
            assertThat(again.keyExists(p("big/" + k))).isTrue();
        }
    }

    /**
     * A spare that cannot be written is not tried again before the next rotation (each try would
     * write zeros up to the failure, on a disk that may be full), and the log goes on with its
     * steps of zeros.
     */
    @Test
    void aSpareThatFailsIsNotTriedAgainBeforeTheNextRotation() throws Exception {
        java.util.concurrent.atomic.AtomicInteger tries = new java.util.concurrent.atomic.AtomicInteger();
        ChannelFactory noRoomForSpares = (file, options) -> {
            if (file.getFileName().toString().equals(WriteAheadLog.SPARE)) {
                tries.incrementAndGet();
                throw new IOException("No space left on device");
            }
            return ChannelFactory.DEFAULT.open(file, options);
        };
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "1MiB"), noRoomForSpares);
        int i = 0;
        while (r.segmentBytes() < 64 * 1024) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> tries.get() == 1 && !Files.exists(dir.resolve(WriteAheadLog.SPARE)));
        while (WriteAheadLog.segments(dir).size() == 1) {
            putBig(r, i++);
        }
        assertThat(tries).as("one try in the first segment").hasValue(1);
        assertThat(Files.size(WriteAheadLog.segments(dir).get(0))).as("rotated at the threshold").isGreaterThanOrEqualTo(1L << 20);
        while (r.segmentBytes() < 64 * 1024) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> tries.get() == 2);
        assertThat(r.checkHealth().healthy()).isTrue();
    }

    /** A committer interrupted while its flush rotates into the spare neither fails nor stops the registry. */
    @ParameterizedTest
    @ValueSource(strings = {"leader", "writer"})
    void anInterruptedCommitterWhoseFlushRotatesIntoTheSpareDoesNotStopTheRegistry(String groupCommit) throws Exception {
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "1MiB", "groupCommit", groupCommit), ChannelFactory.DEFAULT);
        int i = 0;
        while (r.segmentBytes() < 64 * 1024) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(30)).until(r::spareReady);
        while (WriteAheadLog.segments(dir).size() == 1) {
            Thread.currentThread().interrupt();
            try {
                putBig(r, i++);
            } finally {
                assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
            }
        }
        putBig(r, i++);
        assertThat(r.checkHealth().healthy()).isTrue();
        closeOpened();
        EmbeddedRegistry again = open(Map.of("snapshotThreshold", "1MiB"), ChannelFactory.DEFAULT);
        for (int k = 0; k < i; k++) {
            assertThat(again.keyExists(p("big/" + k))).isTrue();
        }
    }

    /**
     * A crash while the spare was written leaves a {@code .tmp} that opening deletes; a crash after it
     * was renamed into place, before its first record, leaves a newest segment of zeros only.
     */
    @Test
    void aSpareLeftByACrashIsDeletedAndASegmentOfZerosOnlyOpens() throws Exception {
        EmbeddedRegistry r = open();
        put(r, 0);
        put(r, 1);
        closeOpened();
        Files.write(dir.resolve(WriteAheadLog.SPARE), new byte[4096]);
        Path renamed = WriteAheadLog.segmentPath(dir, 3);
        Files.write(renamed, new byte[1 << 20]);
        EmbeddedRegistry again = open();
        assertThat(dir.resolve(WriteAheadLog.SPARE)).doesNotExist();
        assertThat(again.currentSequence()).isEqualTo(2);
        put(again, 2);
        assertThat(WriteAheadLog.segments(dir)).last().isEqualTo(renamed);
        closeOpened();
        assertThat(Files.size(renamed)).as("cut to its record on close").isLessThan(1 << 20).isPositive();
        assertThat(dump(open())).containsKeys("k/0:a", "k/1:a", "k/2:a");
    }

    @Test
    void corruptionBeforeTheTailRefusesToOpenNamingFileAndOffset() throws Exception {
        EmbeddedRegistry r = open();
        for (int i = 0; i < 10; i++) {
            put(r, i);
        }
        closeOpened();
        Path segment = onlySegment();
        byte[] bytes = Files.readAllBytes(segment);
        int recordSize = bytes.length / 10;
        int damaged = 3 * recordSize + recordSize / 2; // inside the fourth record
        bytes[damaged] ^= 0x5a;
        Files.write(segment, bytes);
        for (int attempt = 0; attempt < 2; attempt++) { // the failed open releases the directory
            assertThatThrownBy(this::open)
                    .isInstanceOf(RegistryCorruptedException.class)
                    .hasMessageContaining(segment.toString())
                    .hasMessageContaining("offset " + 3 * recordSize)
                    .hasMessageContaining("checksum mismatch")
                    .hasMessageContaining("nothing was discarded");
        }
        assertThat(Files.readAllBytes(segment)).isEqualTo(bytes);
    }

    @Test
    void aMissingLogSegmentIsReportedNotSkipped() throws Exception {
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), ChannelFactory.DEFAULT);
        for (int i = 0; i < 3; i++) {
            put(r, i);
        }
        closeOpened();
        Path segment = onlySegment();
        // a later segment whose predecessor records are gone: fake it by renaming the only one forward
        Files.move(segment, WriteAheadLog.segmentPath(dir, 2));
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class).hasMessageContaining("sequences 1..1 are missing").hasMessageContaining(WriteAheadLog.segmentPath(dir, 2).toString());
    }

    // ---- snapshots ------------------------------------------------------------------------

    @Test
    void snapshotsRotateTheLogAndRecoveryUsesThem() throws Exception {
        // feedRetention 0: no history kept for replaying watches, so snapshots alone bound the log
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB", "feedRetention", "0ms"), ChannelFactory.DEFAULT);
        for (int i = 0; i < 300; i++) {
            put(r, i % 50);
            if (i % 7 == 0) {
                r.commit(WriteBatch.builder().deleteKey(p("k/" + (i % 50))).build());
            }
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !SnapshotFiles.list(dir).isEmpty() && !r.snapshotInProgress());
        Map<String, VersionedValue> before = dump(r);
        long sequence = r.currentSequence();
        closeOpened();
        assertThat(SnapshotFiles.list(dir)).hasSize(1);
        assertThat(WriteAheadLog.segments(dir)).hasSizeLessThanOrEqualTo(2);
        long totalLog = 0;
        for (Path s : WriteAheadLog.segments(dir)) {
            totalLog += Files.size(s);
        }
        assertThat(totalLog).as("log truncated by snapshots").isLessThan(2 * 4096 + 4096);
        EmbeddedRegistry again = open();
        assertThat(dump(again)).isEqualTo(before);
        assertThat(again.currentSequence()).isEqualTo(sequence);
    }

    @Test
    void aSnapshotInterruptedBeforeItsRenameIsIgnoredAndRemoved() throws Exception {
        EmbeddedRegistry r = open();
        for (int i = 0; i < 20; i++) {
            put(r, i);
        }
        Map<String, VersionedValue> before = dump(r);
        closeOpened();
        Path leftover = dir.resolve(SnapshotFiles.path(dir, 15).getFileName() + ".tmp");
        Files.write(leftover, "half a snapshot".getBytes(StandardCharsets.UTF_8));
        EmbeddedRegistry again = open();
        assertThat(dump(again)).isEqualTo(before);
        assertThat(leftover).doesNotExist();
    }

    @Test
    void aFailingSnapshotWriteLosesNothing() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        faults.failForce = true;
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), FaultyChannel.factory(faults,
                f -> f.getFileName().toString().startsWith("snapshot-") && f.getFileName().toString().endsWith(".tmp")));
        for (int i = 0; i < 100; i++) {
            put(r, i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> faults.forceFailures > 0 && !r.snapshotInProgress());
        assertThat(r.checkHealth().healthy()).isTrue();
        put(r, 100);
        Map<String, VersionedValue> before = dump(r);
        closeOpened();
        assertThat(SnapshotFiles.list(dir)).isEmpty();
        EmbeddedRegistry again = open();
        assertThat(dump(again)).isEqualTo(before);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    /**
     * Listeners stuck in a call (waiting for something the closing thread holds) are awaited together
     * and within close's own limit: one after another, 10 s each, they took longer than close may.
     */
    @Test
    void listenersStuckInACallAreAwaitedTogetherWithinTheCloseLimit() throws Exception {
        EmbeddedRegistry r = open();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(3);
        java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger();
        dev.reliablestore.registry.ChangeListener stuck = new dev.reliablestore.registry.ChangeListener() {
            @Override
            public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    left.incrementAndGet();
                }
            }

            @Override
            public void onResync(String reason) {
            }
        };
        try {
            for (int i = 0; i < 3; i++) {
                r.watch(RegistryPath.root(), stuck);
            }
            put(r, 1);
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> r.close(Duration.ofMillis(500)));
            // not 3 x 10 s: the listeners are still stuck when it returns
            await().atMost(Duration.ofSeconds(8)).until(closing::isDone);
            assertThat(left).as("listeners that left their call").hasValue(0);
        } finally {
            release.countDown();
        }
    }

    /**
     * A snapshot writer held in its fsync past {@code close()}'s wait (a disk that stopped
     * answering): close returns, but the directory stays locked until that thread ends, so no
     * second registry opens the directory while the first one's thread still writes there.
     */
    @Test
    void aBackgroundThreadStillWritingAfterCloseKeepsTheDirectoryLocked() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        Map<String, VersionedValue> before;
        try {
            EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), FaultyChannel.factory(faults,
                    f -> f.getFileName().toString().startsWith("snapshot-") && f.getFileName().toString().endsWith(".tmp")));
            for (int i = 0; i < 100; i++) {
                put(r, i);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> faults.forcesHeld.get() == 1);
            before = dump(r);
            r.close(Duration.ofMillis(50));
            assertThatThrownBy(r::currentSequence).isInstanceOf(dev.reliablestore.registry.RegistryClosedException.class);
            assertThatThrownBy(this::open)
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContaining(dir.toAbsolutePath().normalize().toString())
                    .hasMessageContaining("was closed in this process")
                    .hasMessageContaining("still writing there");
            assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process, after a refused open in this one").isFalse();
            assertThat(SnapshotFiles.list(dir)).as("the held snapshot is not finished").isEmpty();
        } finally {
            faults.holdForce = null;
            release.countDown();
        }
        EmbeddedRegistry again = await().atMost(Duration.ofSeconds(10))
                .ignoreExceptionsInstanceOf(RegistryUnavailableException.class)
                .until(this::open, java.util.Objects::nonNull);
        assertThat(SnapshotFiles.list(dir)).as("the snapshot the closed registry finished").hasSize(1);
        assertThat(dump(again)).isEqualTo(before);
    }

    /**
     * A committer whose own flush made its batch durable and then rotates the log (the segment past
     * {@code snapshotThreshold}), or the writer thread it handed its batch to, is held in the rotation's
     * fsync while another thread closes the
     * registry: close must neither close the segment under it nor unlock the directory before it
     * is done, as for the background threads above.
     */
    @Test
    void aCommitterStillRotatingTheLogAfterCloseKeepsTheSegmentAndTheDirectory() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        CountDownLatch release = new CountDownLatch(1);
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), FaultyChannel.factory(faults,
                f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        byte[] large = new byte[8 * 1024];
        java.util.concurrent.CompletableFuture<CommitResult> committing;
        try {
            faults.forcesBeforeHolding = 1; // the batch's own fsync passes; the rotation's cut is held
            faults.holdForce = release;
            committing = java.util.concurrent.CompletableFuture.supplyAsync(() -> r.commit(WriteBatch.builder()
                    .setValue(p("k/large"), "a", RegistryValue.binary(large)).build()));
            await().atMost(Duration.ofSeconds(20)).until(() -> faults.forcesHeld.get() == 1);
            java.util.concurrent.CompletableFuture.runAsync(() -> r.close(Duration.ofMillis(50))).get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThatThrownBy(this::open)
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContaining("was closed in this process")
                    .hasMessageContaining("still writing there");
            // not asserted: whether the commit has returned. Its batch is durable before the rotation starts, and
            // a commit handed to the writer thread (a background flush running when it came) returns then, while
            // the writer rotates; one that led its own flush returns after the rotation (CI83 saw the first)
        } finally {
            faults.holdForce = null;
            release.countDown();
        }
        assertThat(committing.get(20, java.util.concurrent.TimeUnit.SECONDS).sequence()).isEqualTo(2);
        EmbeddedRegistry again = await().atMost(Duration.ofSeconds(10))
                .ignoreExceptionsInstanceOf(RegistryUnavailableException.class)
                .until(this::open, java.util.Objects::nonNull);
        assertThat(again.getValue(p("k/large"), "a")).isPresent();
        assertThat(put(again, 3).sequence()).isEqualTo(3);
    }

    /**
     * The fault-injection report: on a small disk a snapshot ran out of space, and its partial .tmp
     * kept the room the log needed, so the next log write failed and the registry stopped.
     */
    @Test
    void aSnapshotThatRunsOutOfSpaceRemovesItsTmpAndTheLogKeepsTheRoom() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        faults.diskBytes = 104 * 1024; // the log rotates at 64 KiB; a snapshot of it does not fit in what is left
        faults.diskDir = dir;
        EmbeddedRegistry r = open(Map.of("snapshotThresholdBytes", String.valueOf(64 * 1024)), FaultyChannel.factory(faults, f -> true));
        int i = 0;
        while (WriteAheadLog.segments(dir).size() < 2) {
            putBig(r, i++);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !r.snapshotInProgress());
        assertThat(faults.writeFailures).as("the snapshot ran out of space").isPositive();
        assertThat(SnapshotFiles.list(dir)).isEmpty();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("the failed snapshot's .tmp").noneMatch(n -> n.endsWith(".tmp"));
        }
        putBig(r, i);
        assertThat(r.checkHealth().healthy()).isTrue();
        closeOpened();
        assertThat(open().keyExists(p("big/" + i))).isTrue();
    }

    private static void putBig(ClusterRegistry r, int i) {
        r.commit(WriteBatch.builder().setValue(p("big/" + i), "v", RegistryValue.binary(new byte[4096])).build());
    }

    @Test
    void aDamagedSnapshotRefusesToOpenNamingFileAndOffset() throws Exception {
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), ChannelFactory.DEFAULT);
        for (int i = 0; i < 100; i++) {
            put(r, i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !SnapshotFiles.list(dir).isEmpty() && !r.snapshotInProgress());
        closeOpened();
        Path snapshot = SnapshotFiles.list(dir).get(0);
        byte[] bytes = Files.readAllBytes(snapshot);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(snapshot, bytes);
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining(snapshot.toString()).hasMessageContaining("offset");
    }

    /** The checksum is checked over the whole file, so the message says that range, not where the checksum happens to be. */
    @Test
    void aDamagedSnapshotSaysWhatItsChecksumCovers() throws Exception {
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), ChannelFactory.DEFAULT);
        for (int i = 0; i < 100; i++) {
            put(r, i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !SnapshotFiles.list(dir).isEmpty() && !r.snapshotInProgress());
        closeOpened();
        Path snapshot = SnapshotFiles.list(dir).get(0);
        byte[] intact = Files.readAllBytes(snapshot);
        int crcAt = intact.length - 4;
        for (int at : new int[] {intact.length / 2, 9}) { // inside a value's bytes; inside the sequence (read, but not checked, first)
            byte[] bytes = intact.clone();
            bytes[at] ^= 0x01;
            Files.write(snapshot, bytes);
            assertThatThrownBy(this::open).as("byte %d flipped", at).isInstanceOf(RegistryCorruptedException.class)
                    .hasMessageContaining(snapshot.toString())
                    .hasMessageContaining("checksum over bytes 0.." + (crcAt - 1) + " does not match the one stored at offset " + crcAt)
                    .hasMessageContaining("nothing was discarded");
        }
    }

    // ---- failing disk: fail-stop ----------------------------------------------------------

    @Test
    void aFullDiskFailsTheBatchAndStopsWritesUntilReopened() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of(), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        faults.failWrites = true;
        assertThatThrownBy(() -> put(r, 2))
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .hasMessageContaining("stopped accepting writes").hasMessageContaining("No space left on device")
                .hasMessageContaining("may or may not be durable").hasMessageContaining("reopen");
        // not applied in memory: readers never see it
        assertThat(r.keyExists(p("k/2"))).isFalse();
        assertThat(r.currentSequence()).isEqualTo(1);
        faults.failWrites = false; // even once the disk has room again, the registry stays stopped
        assertThatThrownBy(() -> put(r, 3))
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                .hasMessageContaining("stopped accepting writes").hasMessageContaining("No space left on device")
                .hasMessageContaining("reopen");
        Throwable async = catchThrowable(() -> r.commitAsync(WriteBatch.builder().createKey(p("x")).build()).join());
        assertThat(async).isInstanceOf(CompletionException.class).hasCauseInstanceOf(RegistryStoppedException.class);
        assertThatThrownBy(() -> r.addHealthFault(new dev.reliablestore.registry.HealthFault("f", 1, 1, "d", "p", 0)))
                .isInstanceOf(RegistryStoppedException.class);
        assertThat(r.getValue(p("k/1"), "a")).isPresent();
        assertThat(r.checkHealth().healthy()).isFalse();
        assertThat(r.checkHealth().detail()).contains("stopped accepting writes").contains("No space left on device").contains("reopen");
        assertThat(r.healthFaults()).singleElement().satisfies(f -> {
            assertThat(f.id()).isEqualTo("embedded-registry-stopped");
            assertThat(f.description()).contains(dir.toString()).contains("No space left on device").contains("reopen");
        });
        closeOpened();
        EmbeddedRegistry again = open();
        assertThat(again.getValue(p("k/1"), "a")).isPresent();
        assertThat(again.keyExists(p("k/2"))).isFalse();
        assertThat(again.healthFaults()).as("raised by the stopped registry, not stored").isEmpty();
        assertThat(put(again, 4).sequence()).isEqualTo(2);
    }

    /**
     * Space runs out only when a segment grows (a record inside the preallocated zeros takes no new
     * space): a record larger than the zeros left is cut short at the end of the file. In a live
     * process the stop cuts the part that was written (the reopen finds no torn record and logs none;
     * the stop's ERROR says so); a process that dies before that leaves it for recovery to truncate.
     */
    @ParameterizedTest(name = "the process dies before the stop cuts: {0}")
    @ValueSource(booleans = {false, true})
    void aWriteCutShortByAFullDiskIsCutOffByTheStopOrTruncatedByRecovery(boolean diesBeforeTheCut) throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "1MiB"), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        Path segment = onlySegment();
        long forced = r.segmentBytes();
        faults.partialBytes = 20;
        faults.failWrites = true;
        faults.failTruncate = diesBeforeTheCut; // a dead process never cuts
        // larger than the preallocated step of a 1 MiB segment (128 KiB): the segment must grow first
        byte[] large = new byte[200 * 1024];
        String stopLog = StderrCapture.capturing(() -> {
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(p("k/2"), "a", RegistryValue.binary(large)).build()))
                    .isInstanceOf(RegistryStoppedException.class);
            // the committer is failed before the cut, and the ERROR is logged after it by the thread that
            // flushed (the writer): close waits for that thread
            closeOpened();
        });
        if (!diesBeforeTheCut) {
            assertThat(stopLog).contains("ERROR").contains("newest segment " + segment.getFileName() + " was cut back to offset " + forced);
            assertThat(Files.size(segment)).isEqualTo(forced);
        }
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry again = open();
            assertThat(again.getValue(p("k/1"), "a")).isPresent();
            assertThat(again.keyExists(p("k/2"))).isFalse();
            assertThat(put(again, 3).sequence()).isEqualTo(2);
        });
        if (diesBeforeTheCut) {
            assertThat(log).contains("torn record at offset");
        } else {
            assertThat(log).doesNotContain("torn record");
        }
    }

    /**
     * A flush longer than one write of the log reaches the file in pieces; a process killed between
     * two of them leaves the first piece and the preallocated zeros after it. Recovery takes zeros
     * from a sector boundary on for a torn write, so each piece must end on one, wherever the flush
     * started: the open truncates the torn record instead of refusing the log as damaged.
     */
    @Test
    void aFlushStoppedBetweenTwoOfItsWritesLeavesATailThatRecoveryTruncates() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of(), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1); // the long flush starts at an offset that is not on a sector boundary
        faults.positionalWritesBeforeFailing = 1; // the first piece lands, then the "process" stops writing
        faults.failTruncate = true; // and dies before the stop could cut the piece off
        java.util.Random random = new java.util.Random(7); // not zeros: the record's bytes must not look like the tail
        byte[] a = new byte[700 * 1024];
        byte[] b = new byte[700 * 1024];
        random.nextBytes(a);
        random.nextBytes(b);
        assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(p("k/2"), "a", RegistryValue.binary(a))
                .setValue(p("k/3"), "a", RegistryValue.binary(b)).build()))
                .isInstanceOf(RegistryStoppedException.class);
        assertThat(faults.writeFailures).as("stopped between the pieces").isEqualTo(1);
        closeOpened();
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry again = open();
            assertThat(again.getValue(p("k/1"), "a")).isPresent();
            assertThat(again.keyExists(p("k/2"))).isFalse();
            assertThat(put(again, 4).sequence()).isEqualTo(2);
        });
        assertThat(log).contains("torn record at offset");
    }

    /**
     * A SYNC batch whose fsync fails, and an ASYNC batch committed while that fsync runs (applied and
     * readable, not written). The fsync is held until both are in place, so which batch is in the
     * failed write does not depend on scheduling: the writer thread also writes ASYNC batches it
     * finds appended, unasked (see {@link #anAsyncBatchWhoseFsyncFailsFailsAndTheNextWriteIsRefused}).
     */
    @Test
    void aFailedFsyncStopsWritesAndPendingAsyncBatchesFail() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "10s"),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        CompletableFuture<CommitResult> sync = CompletableFuture.supplyAsync(() -> put(r, 2));
        // k/2 is the only batch since k/1 was durable: the write held in its fsync is exactly k/2
        await().atMost(Duration.ofSeconds(10)).until(() -> faults.forcesHeld.get() == 1);
        CompletableFuture<CommitResult> async = r.commitAsync(WriteBatch.builder().setValue(p("async"), "v", RegistryValue.dword(1)).build());
        assertThat(r.keyExists(p("async"))).as("ASYNC is visible at once").isTrue();
        assertThat(r.keyExists(p("k/2"))).as("and makes the SYNC batch before it visible (step 3 of a commit)").isTrue();
        assertThat(async).isNotDone();
        faults.failForce = true;
        faults.holdForce = null;
        release.countDown();
        assertThat(sync).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class).havingCause()
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).as("it was being written").isTrue())
                .withMessageContaining("Input/output error").withMessageContaining("may or may not be durable");
        assertThat(async).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class).havingCause()
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .withMessageContaining("ASYNC").withMessageContaining("reopen");
        // a write after the failure is refused before anything is appended: its outcome is known
        assertThatThrownBy(() -> put(r, 3))
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                .hasMessageContaining("Input/output error").hasMessageContaining("reopen");
        assertThat(r.commitAsync(WriteBatch.builder().createKey(p("x")).build())).failsWithin(Duration.ofSeconds(10))
                .withThrowableOfType(ExecutionException.class).havingCause()
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isFalse());
        assertThat(r.keyExists(p("k/3"))).isFalse();
        assertThat(r.keyExists(p("x"))).isFalse();
        closeOpened();
        // k/2 reached the page cache, never the disk for sure: the stop cut it off (see the next test).
        // The ASYNC batch was never written: readers saw it, a reopen does not show it.
        EmbeddedRegistry again = open();
        assertThat(again.getValue(p("k/1"), "a")).isPresent();
        assertThat(again.keyExists(p("k/2"))).isFalse();
        assertThat(again.keyExists(p("async"))).isFalse();
        assertThat(again.keyExists(p("k/3"))).isFalse();
    }

    /**
     * The records of a flush whose fsync failed may sit in pages the kernel marked clean though the disk
     * lacks them: a reopen in the same boot (no power loss in between, so the page cache survives) must
     * not read them back as durable, or batches acknowledged after them could be lost behind a hole at
     * the next power loss. The stop cuts the segment back to its forced records.
     */
    @Test
    void aBatchWhoseFsyncFailedIsNotReadBackByAReopenInTheSameBoot() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of(), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        Path segment = onlySegment();
        long forced = r.segmentBytes();
        faults.failForce = true;
        assertThatThrownBy(() -> put(r, 2))
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
        assertThat(faults.forceFailures).isEqualTo(1);
        closeOpened(); // the committer is failed before the cut, which the flushing thread makes: close waits for that thread
        assertThat(Files.size(segment)).as("cut back to the forced records, preallocated zeros and all").isEqualTo(forced);
        EmbeddedRegistry again = open();
        assertThat(again.getValue(p("k/1"), "a")).isPresent();
        assertThat(again.keyExists(p("k/2"))).as("written, never forced: not vouched for").isFalse();
        assertThat(put(again, 3).sequence()).isEqualTo(2);
        closeOpened();
        EmbeddedRegistry third = open();
        assertThat(third.keyExists(p("k/2"))).isFalse();
        assertThat(third.getValue(p("k/3"), "a")).isPresent();
    }

    /**
     * The cut runs after everyone waiting has learned of the failure: a truncate on a failing disk can take long,
     * and ASYNC callers and the registry's health must not wait for it.
     */
    @Test
    void waitingBatchesFailBeforeTheCutEnds() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "10s"), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        CountDownLatch release = new CountDownLatch(1);
        faults.holdTruncate = release;
        faults.failForce = true;
        try {
            CompletableFuture<CommitResult> async = r.commitAsync(WriteBatch.builder().setValue(p("async"), "v", RegistryValue.dword(1)).build());
            CompletableFuture<CommitResult> sync = CompletableFuture.supplyAsync(() -> put(r, 2));
            await().atMost(Duration.ofSeconds(10)).until(() -> faults.truncatesHeld.get() == 1);
            assertThat(async).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOf(RegistryStoppedException.class);
            assertThat(r.checkHealth().healthy()).isFalse();
            assertThatThrownBy(() -> put(r, 3)).isInstanceOf(RegistryStoppedException.class);
            release.countDown(); // the thread whose fsync failed (this committer, or the writer that wrote the ASYNC batch first) cuts
            assertThat(sync).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOf(RegistryStoppedException.class);
        } finally {
            release.countDown();
        }
    }

    /** When the cut itself fails, the log says what to do before reopening in the same boot. */
    @Test
    void aCutThatFailsAfterAFailedFsyncSaysToDropThePageCacheBeforeReopening() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of(), FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        faults.failForce = true;
        faults.failTruncate = true;
        String log = StderrCapture.capturing(() -> {
            assertThatThrownBy(() -> put(r, 2)).isInstanceOf(RegistryStoppedException.class);
            closeOpened(); // the flushing thread logs the stop after the cut, once the committer was failed: close waits for it
        });
        assertThat(log).contains("ERROR").contains("cutting the records of the failed flush off").contains("injected truncate failure")
                .contains("could not be cut off its newest segment: before reopening it in this boot, restart the machine or drop the page cache");
    }

    /**
     * The interleaving that made the test above flaky when it assumed an ASYNC batch stays unwritten
     * until the next SYNC commit: the writer (or the background flusher) writes the ASYNC batch on
     * its own and that fsync fails. The ASYNC batch was in the failed write (outcome unknown); the
     * SYNC commit that comes next finds the registry stopped and is refused (outcome known: it was
     * never appended).
     */
    @Test
    void anAsyncBatchWhoseFsyncFailsFailsAndTheNextWriteIsRefused() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "1ms"),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        CompletableFuture<CommitResult> async = r.commitAsync(WriteBatch.builder().setValue(p("async"), "v", RegistryValue.dword(1)).build());
        java.util.concurrent.atomic.AtomicReference<String> failedOn = new java.util.concurrent.atomic.AtomicReference<>();
        async.whenComplete((ok, failure) -> failedOn.set(Thread.currentThread().getName()));
        // no SYNC commit asks for it: the flusher or the writer writes the ASYNC batch, alone, and is held in its fsync
        await().atMost(Duration.ofSeconds(10)).until(() -> faults.forcesHeld.get() == 1);
        faults.failForce = true;
        faults.holdForce = null;
        release.countDown();
        // not on the flusher or the writer: a caller's callback that blocks must not hold them up (checked before
        // anything waits in get(): a thread returning from get() may run the callbacks itself)
        await().atMost(Duration.ofSeconds(10)).until(() -> failedOn.get() != null);
        assertThat(failedOn.get()).startsWith("registry-async-completion");
        assertThat(async).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class).havingCause()
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .withMessageContaining("Input/output error").withMessageContaining("ASYNC").withMessageContaining("reopen");
        assertThatThrownBy(() -> put(r, 2))
                .isInstanceOfSatisfying(RegistryStoppedException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                .hasMessageContaining("Input/output error").hasMessageContaining("reopen");
        assertThat(r.keyExists(p("async"))).as("reads keep serving the last published state").isTrue();
        assertThat(r.keyExists(p("k/2"))).isFalse();
        closeOpened();
        EmbeddedRegistry again = open();
        assertThat(again.getValue(p("k/1"), "a")).isPresent();
        assertThat(again.keyExists(p("k/2"))).isFalse();
    }

    @Test
    void readsAndAsyncCommitsDoNotWaitForAnFsyncInProgress() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "10s"),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        put(r, 1);
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        CompletableFuture<CommitResult> stuck = CompletableFuture.supplyAsync(() -> put(r, 2));
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> faults.forcesHeld.get() > 0);
            // the SYNC batch is written but its fsync has not returned: readers neither wait nor see it
            assertThat(r.getValue(p("k/1"), "a")).isPresent();
            assertThat(r.keyExists(p("k/2"))).isFalse();
            assertThat(r.currentSequence()).isEqualTo(1);
            assertThat(r.read(ReadBatch.of(new ReadBatch.ValueRead(p("k/1"), "a"))).sequence()).isEqualTo(1);
            // an ASYNC commit is applied and visible at once (with the SYNC batch before it, in commit order)
            CompletableFuture<CommitResult> async = r.commitAsync(WriteBatch.builder().createKey(p("async")).build());
            assertThat(r.keyExists(p("async"))).isTrue();
            assertThat(r.keyExists(p("k/2"))).isTrue();
            assertThat(async).isNotDone();
            assertThat(stuck).isNotDone();
        } finally {
            faults.holdForce = null;
            release.countDown();
        }
        assertThat(stuck.get(10, TimeUnit.SECONDS).sequence()).isEqualTo(2);
    }

    // ---- interrupts -----------------------------------------------------------------------------

    /**
     * An interrupted committer (Future.cancel(true), an executor's shutdownNow) must not take the
     * registry down: a FileChannel closes itself when a thread blocked in it is interrupted, so the
     * default writes and forces the log only on the registry's own writer thread.
     */
    @Test
    void anInterruptedCommitterNeitherFailsNorBreaksTheRegistry() throws Exception {
        EmbeddedRegistry r = open();
        CompletableFuture<CommitResult> interrupted = new CompletableFuture<>();
        Thread committer = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                interrupted.complete(put(r, 1));
            } catch (RuntimeException e) {
                interrupted.completeExceptionally(e);
            }
        });
        committer.start();
        committer.join();
        assertThat(interrupted.get(10, TimeUnit.SECONDS).sequence()).isEqualTo(1);
        assertThat(put(r, 2).sequence()).isEqualTo(2);
        r.close();
        assertThat(dump(open())).containsKeys("k/1:a", "k/2:a");
    }

    /**
     * The log writes a flush through a buffer of at most {@link WriteAheadLog#WRITE_CHUNK} bytes, in
     * positional chunks: a batch of three 1 MiB values, committed by an interrupted thread (so the
     * first write closes the channel and the whole flush is redone, chunk by chunk), reads back
     * whole, before and after reopening.
     */
    @Test
    void aFlushLargerThanTheWriteBufferIsWrittenWholeAndRedoneWholeAfterAnInterrupt() throws Exception {
        EmbeddedRegistry r = open();
        java.util.Random random = new java.util.Random(15);
        byte[][] values = new byte[3][RegistryValue.MAX_SIZE];
        WriteBatch.Builder b = WriteBatch.builder();
        for (int i = 0; i < values.length; i++) {
            random.nextBytes(values[i]);
            b.setValue(p("large"), "v" + i, RegistryValue.binary(values[i]));
        }
        WriteBatch batch = b.build();
        CompletableFuture<CommitResult> interrupted = new CompletableFuture<>();
        Thread committer = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                interrupted.complete(r.commit(batch));
            } catch (RuntimeException e) {
                interrupted.completeExceptionally(e);
            }
        });
        committer.start();
        committer.join();
        assertThat(interrupted.get(10, TimeUnit.SECONDS).sequence()).isEqualTo(1);
        assertThat(3L * RegistryValue.MAX_SIZE).as("the flush spans several write buffers").isGreaterThan(2L * WriteAheadLog.WRITE_CHUNK);
        put(r, 2);
        r.close();
        EmbeddedRegistry reopened = open();
        for (int i = 0; i < values.length; i++) {
            assertThat(reopened.getValue(p("large"), "v" + i).orElseThrow().value().asBinary()).as("v" + i).isEqualTo(values[i]);
        }
        assertThat(dump(reopened)).containsKey("k/2:a");
    }

    /**
     * Committers write and force the log on their own thread when no flush is running, so an
     * interrupt can close the channel in the middle of a write or fsync: the log reopens the segment
     * and redoes the flush. A thread interrupted over and over commits every batch, in both modes.
     */
    @Test
    void committersInterruptedDuringTheirWriteAndFsyncCommitEveryBatch() throws Exception {
        for (String mode : List.of("writer", "leader")) {
            Path sub = dir.resolve(mode);
            EmbeddedRegistry r = EmbeddedRegistry.open(sub, EmbeddedOptions.parse(Map.of("groupCommit", mode)), ChannelFactory.DEFAULT);
            int batches = 25;
            CompletableFuture<Integer> committed = new CompletableFuture<>();
            Thread committer = new Thread(() -> {
                try {
                    int n = 0;
                    for (int i = 0; i < batches; i++) {
                        Thread.interrupted(); // some commits start uninterrupted, so interrupts also land mid-I/O
                        put(r, i);
                        n++;
                    }
                    committed.complete(n);
                } catch (RuntimeException e) {
                    committed.completeExceptionally(e);
                }
            });
            committer.start();
            // a bounded storm: interrupts faster than an fsync, without end, would keep redoing one flush
            for (int i = 0; i < 300 && committer.isAlive(); i++) {
                committer.interrupt();
                java.util.concurrent.locks.LockSupport.parkNanos(300_000);
            }
            committer.join(30_000);
            assertThat(committed.get(10, TimeUnit.SECONDS)).as(mode).isEqualTo(batches);
            assertThat(r.checkHealth().healthy()).as(mode).isTrue();
            r.close();
            EmbeddedRegistry again = EmbeddedRegistry.open(sub, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT);
            assertThat(again.currentSequence()).as(mode).isEqualTo(batches);
            again.close();
        }
    }

    // ---- one process per directory, options, URIs ---------------------------------------------

    @Test
    void aSecondOpenInTheSameProcessFailsClearly() {
        open();
        assertThatThrownBy(this::open).isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("already open in this process");
    }

    @Test
    void optionsAreCheckedAndUsed() {
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("flushInterval", "5")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("\"flushInterval\"").hasMessageContaining("asyncFlushInterval");
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("asyncFlushInterval", "fast")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("\"fast\"");
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("asyncFlushInterval", "0ms")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("0ms is out of range 1ms .. 10s");
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("snapshotThreshold", "100")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("4KiB");
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("nodeName", "a/b"))).isInstanceOf(RegistryArgumentException.class);
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("groupCommit", "both"))).isInstanceOf(RegistryArgumentException.class)
                .hasMessageContaining("\"both\"").hasMessageContaining("[writer, leader]");
        assertThat(EmbeddedOptions.parse(Map.of("groupCommit", "writer")).groupCommit()).isEqualTo(EmbeddedOptions.GroupCommit.WRITER);
        // the old spellings and their old forms still work, for one release
        assertThat(EmbeddedOptions.parse(Map.of("asyncFlushIntervalMs", "25")).asyncFlushInterval()).isEqualTo(java.time.Duration.ofMillis(25));
        assertThat(EmbeddedOptions.parse(Map.of("snapshotThreshold", "4KiB")).snapshotThreshold()).isEqualTo(4096);
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("asyncFlushIntervalMs", "0")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("option asyncFlushIntervalMs").hasMessageContaining("out of range");
        EmbeddedOptions defaults = EmbeddedOptions.parse(Map.of());
        assertThat(defaults.asyncFlushInterval()).isEqualTo(java.time.Duration.ofMillis(10));
        assertThat(defaults.snapshotThreshold()).isEqualTo(64L * 1024 * 1024);
        assertThat(defaults.nodeName()).isNotBlank();
        assertThat(defaults.groupCommit()).isEqualTo(EmbeddedOptions.GroupCommit.WRITER);
        EmbeddedRegistry r = open(Map.of("nodeName", "alpha"), ChannelFactory.DEFAULT);
        assertThat(r.status().localNode()).isEqualTo("alpha");
        assertThat(r.status().primary()).contains("alpha");
    }

    @Test
    void urisAreCheckedAndResolvedThroughServiceLoader() {
        assertThat(ClusterRegistries.backends()).containsKey("embedded");
        assertThatThrownBy(() -> ClusterRegistries.open("embedded:")).isInstanceOf(RegistryArgumentException.class);
        assertThatThrownBy(() -> ClusterRegistries.open("embedded://host/data")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("host");
        assertThatThrownBy(() -> ClusterRegistries.open("embedded:/tmp/x?sync=1")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("options map");
        // a relative directory makes an opaque URI, whose query java.net.URI leaves in the path
        String relative = Path.of("").toAbsolutePath().relativize(dir.resolve("r")).toString();
        assertThatThrownBy(() -> ClusterRegistries.open("embedded:" + relative + "?truncateDamagedTail=true"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("options map").hasMessageContaining("truncateDamagedTail");
        assertThat(dir.resolve("r?truncateDamagedTail=true")).doesNotExist();
        assertThatThrownBy(() -> ClusterRegistries.open("embedded:" + dir, Map.of("bogus", "1"))).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("bogus");
        try (ClusterRegistry r = ClusterRegistries.open("embedded://" + dir.resolve("a"))) {
            assertThat(r.uri()).isEqualTo("embedded:" + dir.resolve("a"));
        }
        try (ClusterRegistry r = ClusterRegistries.open("embedded:" + dir.resolve("b"))) {
            assertThat(r.uri()).isEqualTo("embedded:" + dir.resolve("b"));
        }
    }

    // ---- failing directory: its fsync and the renames -----------------------------------------
    // A rotation that cannot make its new segment durable stops the registry as a failed log fsync
    // does; a snapshot that cannot be renamed is given up and the log it would have replaced is kept.

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

    /**
     * An Error at a rotation (the JDK's OutOfMemoryError) after the next segment exists: without a stop, later
     * batches went on into the older segment, and the directory no longer opened ("would be there twice").
     */
    @Test
    void aRotationStoppedByAnErrorStopsWritesAndLosesNothingAcknowledged() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
        ChannelFactory erring = new ChannelFactory() {
            @Override
            public java.nio.channels.FileChannel open(Path file, java.nio.file.OpenOption... options) throws IOException {
                return java.nio.channels.FileChannel.open(file, options);
            }

            @Override
            public void syncDirectory(Path d) throws IOException {
                ChannelFactory.DEFAULT.syncDirectory(d);
                if (armed.get()) {
                    throw new OutOfMemoryError("injected at a rotation");
                }
            }
        };
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "64KiB"), erring);
        armed.set(true); // after the first segment was created
        int acknowledged = putUntilStopped(r, 0, "injected at a rotation");
        assertThat(acknowledged).as("writes went on until the log rotated").isGreaterThan(10);
        assertThat(r.checkHealth().healthy()).isFalse();
        closeOpened();
        assertAllPresentAfterReopen(acknowledged);
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
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("injected fsync failure");
        assertThat(faults.forceFailures).isEqualTo(1);
        assertAllPresentAfterReopen(0);
    }

    /** The directory's fsync itself is seen failing through the seam in openingMakesWhatItRecoveredDurableFirst. */
    @Test
    void theDefaultChannelsRenameAndFlushDirectoriesWhereTheOsCan() throws IOException {
        Path from = Files.writeString(dir.resolve("a"), "x");
        ChannelFactory.DEFAULT.move(from, dir.resolve("b"));
        ChannelFactory.DEFAULT.syncDirectory(dir); // opens the directory as a channel and forces it: throws where it cannot
        assertThat(dir.resolve("a")).doesNotExist();
        assertThat(dir.resolve("b")).hasContent("x");
        // Windows cannot open a directory as a channel: there the flush is NTFS's own journal
        assertThat(ChannelFactory.flushesDirectories("Linux")).isTrue();
        assertThat(ChannelFactory.flushesDirectories("Windows Server 2022")).isFalse();
    }

    /**
     * What a killed process wrote but did not fsync is in the page cache, and opening reads it as committed: it is made
     * durable (the newest segment forced, the directory's entries flushed) before it counts as durable. An fsync that
     * fails there fails the open, as a failed fsync stops the registry.
     */
    @Test
    void openingMakesWhatItRecoveredDurableFirst() throws IOException {
        try (EmbeddedRegistry r = open()) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("K"), "v", RegistryValue.qword(1)).build());
        }
        for (java.util.function.Predicate<Path> failing : List.<java.util.function.Predicate<Path>>of(
                f -> f.getFileName().toString().startsWith("wal-"), f -> f.equals(dir))) {
            FaultyChannel.Faults faults = new FaultyChannel.Faults();
            faults.failForce = true;
            assertThatThrownBy(() -> open(Map.of(), FaultyChannel.factory(faults, failing)))
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContainingAll("Input/output error", "restart the machine or drop the page cache");
            assertThat(faults.forceFailures).isEqualTo(1);
        }
        try (EmbeddedRegistry r = open()) {
            assertThat(r.getValue(RegistryPath.of("K"), "v")).isPresent();
        }
    }

    /**
     * A registry opened in directories that do not exist yet: each one created is flushed into its
     * parent before the first write is acknowledged, or a power loss could take the whole registry
     * with its fsynced log. (A kill -9 keeps the page cache, so the crash tests cannot see this.)
     */
    @Test
    void theDirectoriesItCreatesAreFlushedIntoTheirParents() {
        Path registryDir = dir.resolve("a").resolve("b").resolve("registry");
        List<Path> synced = java.util.Collections.synchronizedList(new ArrayList<>());
        ChannelFactory recording = new ChannelFactory() {
            @Override
            public java.nio.channels.FileChannel open(Path file, java.nio.file.OpenOption... options) throws IOException {
                return java.nio.channels.FileChannel.open(file, options);
            }

            @Override
            public void syncDirectory(Path d) throws IOException {
                synced.add(d);
                ChannelFactory.super.syncDirectory(d);
            }
        };
        try (EmbeddedRegistry r = EmbeddedRegistry.open(registryDir, EmbeddedOptions.parse(Map.of()), recording)) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("K"), "v", RegistryValue.qword(1)).build());
        }
        assertThat(synced).contains(dir, dir.resolve("a"), dir.resolve("a").resolve("b"), registryDir);
    }
}
