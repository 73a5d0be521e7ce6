package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.conformance.FeedRecorder;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What the conformance suite cannot see of the embedded backend's replay history: the retention
 * boundary judged per segment and kept across reopening, damage in an old retained segment, a
 * crash image after history was dropped, a directory written by an older version, batches whose
 * changes depend on the tree (created keys, commands that changed nothing), and a listener far
 * behind while writers run.
 */
@SuppressWarnings("try") // watches opened in try-with-resources only to be closed at the end
class EmbeddedFeedHistoryTest {

    private static final long HOUR = 3_600_000;

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    private final List<EmbeddedRegistry> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(EmbeddedRegistry::close);
    }

    private EmbeddedRegistry open(Path d) {
        EmbeddedRegistry r = EmbeddedRegistry.open(d, EmbeddedOptions.parse(Map.of("feedRetention", "1h", "nodeName", "n")),
                ChannelFactory.DEFAULT, clock::get);
        opened.add(r);
        return r;
    }

    private EmbeddedRegistry reopen(EmbeddedRegistry r) {
        r.close();
        return open(dir);
    }

    private static RegistryPath p(String path) {
        return RegistryPath.parse(path);
    }

    private static void commitSome(EmbeddedRegistry r, int n) {
        for (int i = 0; i < n; i++) {
            r.commit(WriteBatch.builder().setValue(p("k/" + (i % 3)), "v", RegistryValue.dword(i)).build());
        }
    }

    private static List<ChangeBatch> after(FeedRecorder live, long sequence) {
        return live.batches.stream().filter(b -> b.sequence() > sequence).toList();
    }

    @Test
    void aSegmentIsDroppedOnlyOnceItsLastRecordIsOlderThanTheRetentionAndTheBoundaryHoldsAcrossReopen() throws Exception {
        EmbeddedRegistry r = open(dir);
        FeedRecorder live = new FeedRecorder();
        r.watch(RegistryPath.root(), live);
        for (int i = 0; i < 3; i++) {
            commitSome(r, 5);
            r.snapshotNow(clock.get()); // segments of sequences 1..5, 6..10, 11..15, then 16..
        }
        await().until(() -> live.events.size() == 15);
        assertThat(WriteAheadLog.segments(dir)).hasSize(4);
        assertThat(r.replayableAfter()).isZero();
        Files.setLastModifiedTime(WriteAheadLog.segmentPath(dir, 1), FileTime.fromMillis(clock.get() - 2 * HOUR));
        Files.setLastModifiedTime(WriteAheadLog.segmentPath(dir, 6), FileTime.fromMillis(clock.get() - HOUR + 60_000));

        r = reopen(r); // opening removes what the newest snapshot and the retention make obsolete
        assertThat(WriteAheadLog.segments(dir)).extracting(WriteAheadLog::firstSequence).containsExactly(6L, 11L, 16L);
        assertThat(r.replayableAfter()).isEqualTo(5);
        EmbeddedRegistry reopened = r;
        assertThatThrownBy(() -> reopened.watch(RegistryPath.root(), 4, new FeedRecorder()))
                .isInstanceOfSatisfying(FeedHistoryUnavailableException.class, e -> {
                    assertThat(e.requestedAfter()).isEqualTo(4);
                    assertThat(e.replayableAfter()).isEqualTo(5);
                }).hasMessageContaining("feedRetention=1h");
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = r.watch(RegistryPath.root(), 5, replay)) {
            await().until(() -> replay.events.size() == 10);
            assertThat(replay.events).containsExactlyElementsOf(after(live, 5));
        }

        clock.addAndGet(2 * HOUR); // now every segment but the newest is past the retention
        r.snapshotNow(clock.get());
        assertThat(r.replayableAfter()).isEqualTo(15);
        r = reopen(r);
        assertThat(r.replayableAfter()).as("derived from the files after reopening").isEqualTo(15);
    }

    @Test
    void aDamagedOldSegmentDoesNotStopOpeningItShortensTheHistoryForGood() throws Exception {
        EmbeddedRegistry r = open(dir);
        FeedRecorder live = new FeedRecorder();
        r.watch(RegistryPath.root(), live);
        commitSome(r, 5);
        r.snapshotNow(clock.get());
        commitSome(r, 5);
        r.snapshotNow(clock.get());
        commitSome(r, 2);
        await().until(() -> live.events.size() == 12);
        r.close();
        Path oldest = WriteAheadLog.segmentPath(dir, 1);
        try (FileChannel ch = FileChannel.open(oldest, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xEE}), LogCodec.HEADER_BYTES + 3); // in sequence 1's record
        }

        r = open(dir);
        assertThat(r.currentSequence()).isEqualTo(12);
        assertThat(r.getValue(p("k/1"), "v")).isPresent();
        assertThat(r.replayableAfter()).as("not read on open").isZero();
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = r.watch(RegistryPath.root(), 0, replay)) {
            await().until(() -> replay.events.size() == 8);
            assertThat(replay.events).hasSize(8).first().isInstanceOf(String.class); // the resync, first
            assertThat(replay.batches).containsExactlyElementsOf(after(live, 5));
        }
        assertThat(r.replayableAfter()).isEqualTo(5);
        r = reopen(r);
        assertThat(r.replayableAfter()).as("given up for good").isEqualTo(5);
        EmbeddedRegistry reopened = r;
        assertThatThrownBy(() -> reopened.watch(RegistryPath.root(), 0, new FeedRecorder())).isInstanceOf(FeedHistoryUnavailableException.class);
    }

    /** A history reader that runs out of memory does not leave its watch silent: it resynchronises and goes live. */
    @Test
    void aReplayWhoseReaderFailsWithAnErrorResynchronisesAndGoesLive() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of("feedRetention", "1h", "nodeName", "n")),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")), clock::get);
        opened.add(r);
        commitSome(r, 5);
        r.snapshotNow(clock.get()); // sequences 1..5 only in a retained segment now
        commitSome(r, 2);
        faults.readError = true;
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = r.watch(RegistryPath.root(), 0, replay)) {
            await().until(() -> !replay.events.isEmpty());
            assertThat(replay.events.get(0)).as("a resync, not silence").isInstanceOf(String.class);
            faults.readError = false;
            long after = r.commit(WriteBatch.builder().setValue(p("k/live"), "v", RegistryValue.dword(1)).build()).sequence();
            await().until(() -> replay.batches.stream().anyMatch(b -> b.sequence() == after));
        }
    }

    /**
     * A replay that chases live writes reads the active segment again and again; it goes on where
     * its last read stopped instead of rescanning the segment from its first record (which grew
     * quadratically with the segment). Seen from outside: damage in records it has already handed
     * on does not stop it, because it does not read them again.
     */
    @Test
    void aReaderGoesOnWhereItsLastReadStoppedWithoutRereadingTheSegment() throws Exception {
        EmbeddedRegistry r = open(dir);
        commitSome(r, 10);
        r.close();
        opened.remove(r);
        FeedHistory history = FeedHistory.open(dir, ChannelFactory.DEFAULT, Duration.ofHours(1), clock::get, 10, 0);
        FeedHistory.Pin pin = history.pin(0);
        List<Long> read = new ArrayList<>();
        assertThat(history.read(0, 5, pin, b -> read.add(b.sequence()))).isEqualTo(5);
        try (FileChannel ch = FileChannel.open(WriteAheadLog.segmentPath(dir, 1), StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) 0xEE}), LogCodec.HEADER_BYTES + 3); // in sequence 1's record
        }
        assertThat(history.read(5, 10, pin, b -> read.add(b.sequence()))).isEqualTo(10);
        assertThat(read).containsExactlyElementsOf(LongStream.rangeClosed(1, 10).boxed().toList());
        FeedHistory.Pin fresh = history.pin(5);
        assertThatThrownBy(() -> history.read(5, 10, fresh, b -> true)).as("another reader starting there scans the segment")
                .isInstanceOf(FeedHistory.Unreadable.class).hasMessageContaining("checksum mismatch at offset 0");
        pin.release();
        fresh.release();
    }

    /** Removing old segments fails part-way (a directory fsync): the bound still says what is gone. */
    @Test
    void segmentsRemovedBeforeAFailureArePastTheReplayableBound() throws Exception {
        EmbeddedRegistry r = open(dir);
        for (int i = 0; i < 3; i++) {
            commitSome(r, 5);
            r.snapshotNow(clock.get()); // segments of sequences 1..5, 6..10, 11..15, then 16..
        }
        r.close();
        opened.remove(r);
        java.util.concurrent.atomic.AtomicInteger syncs = new java.util.concurrent.atomic.AtomicInteger();
        ChannelFactory secondSyncFails = new ChannelFactory() {
            @Override
            public FileChannel open(Path file, java.nio.file.OpenOption... options) throws IOException {
                return FileChannel.open(file, options);
            }

            @Override
            public void syncDirectory(Path d) throws IOException {
                if (syncs.incrementAndGet() == 2) {
                    throw new IOException("Input/output error (injected directory fsync failure)");
                }
                ChannelFactory.super.syncDirectory(d);
            }
        };
        FeedHistory history = FeedHistory.open(dir, secondSyncFails, Duration.ofHours(1), clock::get, 15, 0);
        assertThatThrownBy(() -> history.removeObsolete(15, clock.get() + 2 * HOUR)).isInstanceOf(IOException.class);
        assertThat(WriteAheadLog.segments(dir)).extracting(WriteAheadLog::firstSequence).as("1..5 and 6..10 deleted").containsExactly(11L, 16L);
        assertThat(history.replayableAfter()).isEqualTo(10);
    }

    @Test
    void aCrashAfterHistoryWasDroppedReopensWithTheSameHorizon() throws Exception {
        EmbeddedRegistry r = open(dir);
        FeedRecorder live = new FeedRecorder();
        r.watch(RegistryPath.root(), live);
        commitSome(r, 3);
        r.snapshotNow(Long.MAX_VALUE);
        commitSome(r, 2);
        await().until(() -> live.events.size() == 5);
        assertThat(r.replayableAfter()).isEqualTo(3);
        Path image = dir.resolveSibling(dir.getFileName() + "-crash");
        Files.createDirectories(image);
        try (Stream<Path> files = Files.list(dir)) { // the files as a kill -9 leaves them: not closed, zeros preallocated
            for (Path f : (Iterable<Path>) files.filter(f -> !f.getFileName().toString().equals(EmbeddedRegistry.LOCK_FILE))::iterator) {
                Files.copy(f, image.resolve(f.getFileName()));
            }
        }
        EmbeddedRegistry crashed = open(image);
        assertThat(crashed.currentSequence()).isEqualTo(5);
        assertThat(crashed.replayableAfter()).isEqualTo(3);
        assertThatThrownBy(() -> crashed.watch(RegistryPath.root(), 2, new FeedRecorder())).isInstanceOf(FeedHistoryUnavailableException.class);
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = crashed.watch(RegistryPath.root(), 3, replay)) {
            await().until(() -> replay.events.size() == 2);
            assertThat(replay.events).containsExactlyElementsOf(after(live, 3));
        }
    }

    @Test
    void aDirectoryWrittenByAnOlderVersionReplaysOnlyFromWhereThisVersionTookOver() throws Exception {
        Files.createDirectories(dir);
        LogCodec.RecordBuffer b = new LogCodec.RecordBuffer();
        LogCodec.encodeBatch(b, 1, WriteBatch.builder().setValue(p("a/b"), "v", RegistryValue.dword(1)).build().commands());
        LogCodec.encodeBatch(b, 2, WriteBatch.builder().createKey(p("a")).deleteKey(p("none")).build().commands());
        Files.write(WriteAheadLog.segmentPath(dir, 1), java.util.Arrays.copyOf(b.array(), b.size()));

        EmbeddedRegistry r = open(dir);
        assertThat(r.currentSequence()).isEqualTo(2);
        assertThat(r.replayableAfter()).as("BATCH records do not say which keys a command created").isEqualTo(2);
        assertThat(Files.readString(dir.resolve(FeedHistory.FLOOR_FILE)).strip()).isEqualTo("2");
        assertThatThrownBy(() -> r.watch(RegistryPath.root(), 1, new FeedRecorder())).isInstanceOf(FeedHistoryUnavailableException.class);
        long next = r.commit(WriteBatch.builder().setValue(p("a/c"), "v", RegistryValue.dword(3)).build()).sequence();
        EmbeddedRegistry again = reopen(r);
        assertThat(again.replayableAfter()).isEqualTo(2);
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = again.watch(RegistryPath.root(), 2, replay)) {
            await().until(() -> replay.events.size() == 1);
            assertThat(replay.sequences()).containsExactly(next);
        }
    }

    @Test
    void aDamagedFloorFileGivesUpTheHistoryInsteadOfStoppingTheOpen() throws Exception {
        EmbeddedRegistry r = open(dir);
        commitSome(r, 4);
        r.close();
        Files.writeString(dir.resolve(FeedHistory.FLOOR_FILE), "not a number");
        EmbeddedRegistry again = open(dir);
        assertThat(again.currentSequence()).isEqualTo(4);
        assertThat(again.replayableAfter()).isEqualTo(4);
        assertThat(Files.readString(dir.resolve(FeedHistory.FLOOR_FILE)).strip()).isEqualTo("4");
    }

    @Test
    void batchesWhoseChangesDependOnTheTreeReplayAsTheyWereDeliveredLive() throws Exception {
        EmbeddedRegistry r = open(dir);
        FeedRecorder live = new FeedRecorder();
        r.watch(RegistryPath.root(), live);
        List<WriteBatch> batches = List.of(
                WriteBatch.builder().setValue(p("a/b/c/d"), "v", RegistryValue.dword(1)).build(),
                WriteBatch.builder().createKey(p("a/b")).createKey(p("x/y/z")).setValue(p("x/y"), "s", RegistryValue.sz("s")).build(),
                WriteBatch.builder().deleteValue(p("nope"), "absent").deleteKey(p("nope/either")).setValue(p("a/b"), "v", RegistryValue.dword(2)).build(),
                WriteBatch.builder().deleteKey(p("a/b")).setValue(p("a/b/c"), "w", RegistryValue.qword(3)).createKey(p("a/b/c/e/f")).build(),
                WriteBatch.builder().createKey(p("q")).createKey(p("q/r")).createKey(p("q/r/s")).setValue(p("q/r/s"), "t", RegistryValue.binary(new byte[0]))
                        .build(),
                WriteBatch.builder().requireValueExists(p("q/r/s"), "t").deleteValue(p("q/r/s"), "t").deleteValue(p("q/r/s"), "t").createKey(p("m")).build(),
                WriteBatch.builder().deleteKey(p("a")).deleteKey(p("a/b")).createKey(p("a")).build());
        List<Long> sequences = new ArrayList<>();
        for (WriteBatch batch : batches) {
            sequences.add(r.commit(batch).sequence());
        }
        await().until(() -> live.events.size() == batches.size());
        assertThat(live.sequences()).containsExactlyElementsOf(sequences);

        r = reopen(r);
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = r.watch(RegistryPath.root(), 0, replay)) {
            await().until(() -> replay.events.size() == batches.size());
            assertThat(replay.events).containsExactlyElementsOf(live.events);
        }
        FeedRecorder subtree = new FeedRecorder();
        try (Watch w = r.watch(p("a/b"), 0, subtree)) {
            List<ChangeBatch> expected = new ArrayList<>();
            for (ChangeBatch b : live.batches) {
                List<dev.reliablestore.registry.Change> inside = b.changes().stream()
                        .filter(c -> dev.reliablestore.registry.spi.ChangeDispatcher.concerns(p("a/b"), c)).toList();
                if (!inside.isEmpty()) {
                    expected.add(new ChangeBatch(b.sequence(), inside));
                }
            }
            await().until(() -> subtree.events.size() == expected.size());
            assertThat(subtree.events).containsExactlyElementsOf(expected);
        }
    }

    /** Random batches on a few short names: the record decodes to the changes and, applied, to the same tree. */
    @Test
    void aChangesRecordDecodesToTheBatchsChangesAndRebuildsTheSameTree() {
        java.util.Random random = new java.util.Random(21);
        KeyNode root = KeyNode.EMPTY;
        for (long sequence = 1; sequence <= 3000; sequence++) {
            WriteBatch.Builder b = WriteBatch.builder();
            for (int i = random.nextInt(4) + 1; i > 0; i--) {
                StringBuilder path = new StringBuilder("n" + random.nextInt(3));
                for (int d = random.nextInt(4); d > 0; d--) {
                    path.append('/').append("n").append(random.nextInt(3));
                }
                RegistryPath key = p(path.toString());
                switch (random.nextInt(5)) {
                    case 0 -> b.createKey(key);
                    case 1 -> b.deleteKey(key);
                    case 2 -> b.deleteValue(key, "v" + random.nextInt(2));
                    default -> b.setValue(key, "v" + random.nextInt(2), RegistryValue.dword(random.nextInt()));
                }
            }
            TreeOps.Applied applied = TreeOps.apply(root, b.build().commands(), sequence);
            LogCodec.RecordBuffer buffer = new LogCodec.RecordBuffer();
            LogCodec.encodeChanges(buffer, sequence, applied.changes());
            LogCodec.LogRecord record = LogCodec.decode(buffer.array(), LogCodec.HEADER_BYTES, buffer.size() - LogCodec.HEADER_BYTES);
            assertThat(record.changes()).as("sequence %d", sequence).isEqualTo(applied.changes());
            TreeOps.Applied replayed = TreeOps.apply(root, record.mutations(), sequence);
            assertThat(replayed.changes()).as("sequence %d", sequence).isEqualTo(applied.changes());
            assertThat(dump(replayed.root())).as("sequence %d", sequence).isEqualTo(dump(applied.root()));
            root = applied.root();
        }
    }

    private static Map<String, Object> dump(KeyNode n) {
        Map<String, Object> out = new java.util.TreeMap<>();
        PersistentSortedMap.forEach(n.values, out::put);
        PersistentSortedMap.forEach(n.children, (name, child) -> out.put(name + "/", dump(child)));
        return out;
    }

    @Test
    void aListenerFarBehindWhileWritersRunGetsEveryBatchOnceInOrderWithoutResync() throws Exception {
        EmbeddedRegistry r = open(dir);
        int history = EmbeddedWatch.HISTORY_WINDOW + 100;
        commitSome(r, history);
        CountDownLatch release = new CountDownLatch(1);
        FeedRecorder rec = new FeedRecorder();
        ChangeListener slow = new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                try {
                    assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                rec.onBatch(batch);
            }

            @Override
            public void onResync(String reason) {
                rec.onResync(reason);
            }
        };
        try (Watch w = r.watch(RegistryPath.root(), 0, slow)) {
            int more = EmbeddedWatch.HELD_BACK_LIMIT + 500; // more live batches than are held back: the rest is read from the log
            for (int i = 0; i < more; i++) {
                r.commitAsync(WriteBatch.builder().setValue(p("live/" + (i % 7)), "v", RegistryValue.dword(i)).build());
            }
            long last = r.currentSequence();
            release.countDown();
            await().atMost(Duration.ofSeconds(30)).until(() -> rec.events.size() >= last);
            assertThat(rec.resyncs).isEmpty();
            assertThat(rec.sequences()).containsExactlyElementsOf(LongStream.rangeClosed(1, last).boxed().toList());
        }
    }
}
