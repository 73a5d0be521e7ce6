package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.Wtf8;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Regression tests for defects found in an adversarial review of the embedded backend: each test
 * failed before its fix. White-box where a race window has to be held open deterministically.
 */
class EmbeddedReviewRegressionTest {

    @TempDir
    Path dir;

    private final List<ClusterRegistry> opened = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void closeAll() throws InterruptedException {
        for (Thread t : threads) {
            t.join(30_000);
        }
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

    private static Object field(Object owner, Class<?> type, String name) throws ReflectiveOperationException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }

    /** The registry's applyLock. */
    private static ReentrantLock applyLock(EmbeddedRegistry r) throws ReflectiveOperationException {
        return (ReentrantLock) field(r, EmbeddedRegistry.class, "applyLock");
    }

    /** Whether a thread is parked until the group-commit log's flush ends. */
    private static java.util.function.Predicate<Thread> flushWaiters(EmbeddedRegistry r) throws ReflectiveOperationException {
        return ((GroupCommitLog) field(r, EmbeddedRegistry.class, "log"))::waitsForFlush;
    }

    private Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        threads.add(t);
        t.start();
        return t;
    }

    private static RegistryPath p(String s) {
        return RegistryPath.parse(s);
    }

    /**
     * Contract: after commit returns, currentSequence() is at least its sequence. The flusher made
     * the new durable sequence visible before it published the tree, so a committer whose batch
     * that flush covered could return (seeing durableSequence) while readers still saw the old tree.
     * Held open here: the flusher is stopped between its fsync and its publication by holding
     * applyLock, and a committer arrives in that window.
     */
    @Test
    void aCommitThatReturnsIsVisibleToReadsInTheSameProcess() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "10s"),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        ReentrantLock applyLock = applyLock(r);
        java.util.function.Predicate<Thread> flushWaiters = flushWaiters(r);
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        // A: a SYNC batch whose fsync is held
        CompletableFuture<CommitResult> a = new CompletableFuture<>();
        start("committer-a", () -> a.complete(r.commit(WriteBatch.builder().setValue(p("a"), "v", RegistryValue.dword(1)).build())));
        await().atMost(Duration.ofSeconds(10)).until(() -> faults.forcesHeld.get() > 0);

        // D: a batch that changes nothing gets the newest sequence (A's) and must wait until A is visible
        AtomicLong dSequence = new AtomicLong(-1);
        AtomicLong dSaw = new AtomicLong(-1);
        AtomicReference<Throwable> dFailed = new AtomicReference<>();
        Thread d = start("committer-d", () -> {
            try {
                CommitResult c = r.commit(WriteBatch.builder().requireKeyAbsent(p("nothing")).build());
                dSequence.set(c.sequence());
                dSaw.set(r.currentSequence());
            } catch (Throwable t) {
                dFailed.set(t);
            }
        });
        // D applied and waits for the flush that is stuck in A's fsync
        await().atMost(Duration.ofSeconds(10)).until(() -> flushWaiters.test(d) && d.getState() == Thread.State.WAITING);
        applyLock.lock(); // the flusher will stop where it publishes
        try {
            faults.holdForce = null;
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(applyLock::hasQueuedThreads);
            LockSupport.unpark(d); // D looks at the durable sequence now, between the fsync and the publication
            await().atMost(Duration.ofSeconds(10)).until(() -> d.getState() == Thread.State.TERMINATED
                    || (d.getState() == Thread.State.WAITING && flushWaiters.test(d)));
        } finally {
            applyLock.unlock();
        }
        d.join(10_000);
        assertThat(dFailed.get()).isNull();
        assertThat(a.get(10, TimeUnit.SECONDS).sequence()).isEqualTo(1);
        assertThat(dSequence.get()).isEqualTo(1);
        assertThat(dSaw.get()).as("currentSequence() right after commit returned sequence " + dSequence.get())
                .isGreaterThanOrEqualTo(dSequence.get());
    }

    /**
     * Sixteen committers woken at the end of every flush, most of them to park again because the
     * flush did not cover them, cost more CPU than the writes; committers leading in turn left the
     * disk idle while the next one woke. Now a committer that finds a flush running hands its batch
     * to the writer and is woken only by the flush that covers it: here B to F, arriving while A's
     * fsync is held, are woken once each after the writer's flush of all five (the writer wakes one,
     * each woken committer passes it on), the writer once (to lead it) — six wake-ups.
     */
    @Test
    void committersWaitingForALaterFlushAreNotWokenByAnEarlierOne() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "10s"),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        GroupCommitLog log = (GroupCommitLog) field(r, EmbeddedRegistry.class, "log");
        Thread writer = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("registry-log-writer " + dir.getFileName())).findFirst().orElseThrow();
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        List<CompletableFuture<CommitResult>> results = new ArrayList<>();
        List<Thread> committers = new ArrayList<>();
        for (String name : List.of("a", "b", "c", "d", "e", "f")) {
            CompletableFuture<CommitResult> done = new CompletableFuture<>();
            results.add(done);
            committers.add(start("committer-" + name, () -> done.complete(r.commit(WriteBatch.builder()
                    .setValue(p(name), "v", RegistryValue.dword(1)).build()))));
            if (name.equals("a")) {
                // A finds no flush running and nobody waiting: it writes and forces on its own thread
                await().atMost(Duration.ofSeconds(10)).until(() -> faults.forcesHeld.get() > 0);
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> committers.stream().skip(1).allMatch(log::waitsForFlush)
                && log.waitsForFlush(writer) && writer.getState() == Thread.State.WAITING);
        long before = log.wakeUps.sum();
        faults.holdForce = null;
        release.countDown();
        for (CompletableFuture<CommitResult> f : results) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(results.get(0).get().sequence()).isEqualTo(1);
        List<Long> later = new ArrayList<>();
        for (CompletableFuture<CommitResult> f : results.subList(1, results.size())) {
            later.add(f.get().sequence());
        }
        assertThat(later).containsExactlyInAnyOrder(2L, 3L, 4L, 5L, 6L);
        assertThat(log.wakeUps.sum() - before).as("threads woken by the ends of the two flushes").isEqualTo(6);
    }

    /**
     * close() stopped the background flusher with shutdownNow, interrupting it; in groupCommit=leader
     * mode that thread writes and forces the log itself, and a FileChannel closes itself when a thread
     * blocked in it is interrupted. The flush failed, the registry went fail-stop, close skipped its
     * final flush and the pending ASYNC batch failed, although close() promises everything durable.
     */
    @Test
    void closeWaitsForABackgroundFlushInsteadOfInterruptingIt() throws Exception {
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        EmbeddedRegistry r = open(Map.of("groupCommit", "leader", "asyncFlushInterval", "1ms"),
                FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
        r.commit(WriteBatch.builder().setValue(p("sync"), "v", RegistryValue.dword(1)).build());
        CountDownLatch release = new CountDownLatch(1);
        faults.holdForce = release;
        CompletableFuture<CommitResult> async = r.commitAsync(WriteBatch.builder().setValue(p("async"), "v", RegistryValue.dword(2)).build());
        // only ASYNC work is pending, so the thread held in force is the background flusher
        await().atMost(Duration.ofSeconds(10)).until(() -> faults.forcesHeld.get() > 0);
        Thread closer = start("closer", r::close);
        await().atMost(Duration.ofSeconds(10)).until(() -> async.isDone() || closer.getState() == Thread.State.TIMED_WAITING);
        faults.holdForce = null;
        release.countDown();
        closer.join(30_000);
        assertThat(closer.isAlive()).isFalse();
        assertThat(async).succeedsWithin(Duration.ofSeconds(10)).extracting(CommitResult::sequence).isEqualTo(2L);
        closeOpened();
        EmbeddedRegistry again = open(Map.of(), ChannelFactory.DEFAULT);
        assertThat(again.getValue(p("async"), "v")).isPresent();
    }

    /**
     * A health fault's description and provider were unbounded. A log record over
     * LogCodec.MAX_RECORD_BYTES is written and acknowledged, but recovery reads its length as
     * impossible: as the last record it is truncated as "torn" (an acknowledged write lost), with a
     * record after it the registry refuses to open. Now refused before anything is written.
     */
    @Test
    void aHealthFaultTooLargeForTheLogIsRefusedBeforeAnythingIsWritten() throws Exception {
        EmbeddedRegistry r = open(Map.of(), ChannelFactory.DEFAULT);
        r.addHealthFault(new HealthFault("ok", 1, 2, "x".repeat(EmbeddedRegistry.MAX_FAULT_TEXT_CHARS - 3), "abc", 0));
        long sequence = r.currentSequence();
        long logBytes = Files.size(WriteAheadLog.segments(dir).get(0));
        String description = "d".repeat(EmbeddedRegistry.MAX_FAULT_TEXT_CHARS);
        assertThatThrownBy(() -> r.addHealthFault(new HealthFault("big", 1, 2, description, "p", 0)))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                    assertThat(e.size()).isEqualTo(EmbeddedRegistry.MAX_FAULT_TEXT_CHARS + 1L);
                    assertThat(e.limit()).isEqualTo(EmbeddedRegistry.MAX_FAULT_TEXT_CHARS);
                })
                .hasMessageContaining("\"big\"")
                .hasMessageContaining(String.valueOf(EmbeddedRegistry.MAX_FAULT_TEXT_CHARS + 1))
                .hasMessageContaining(String.valueOf(EmbeddedRegistry.MAX_FAULT_TEXT_CHARS));
        assertThat(r.currentSequence()).isEqualTo(sequence);
        assertThat(Files.size(WriteAheadLog.segments(dir).get(0))).isEqualTo(logBytes);
        assertThat(r.healthFaults()).extracting(HealthFault::id).containsExactly("ok");
    }

    /**
     * Names may hold any UTF-16 unit but '/', '\' and control characters, unpaired surrogates
     * included (the contract: "any other name is legal"). The log and snapshots encoded names with
     * String.getBytes(UTF_8), which replaces an unpaired surrogate with '?': after a reopen the key
     * had another name, and two such keys could merge into one.
     */
    @Test
    void namesWithUnpairedSurrogatesSurviveTheLogAndSnapshots() throws Exception {
        String high = "a\uD800b";
        String low = "a\uDC00b";
        String pair = "a\uD83D\uDE00b"; // a valid pair keeps the standard UTF-8 form
        String text = "fault \uDBFF text";
        EmbeddedRegistry r = open(Map.of("snapshotThreshold", "4KiB"), ChannelFactory.DEFAULT);
        r.commit(WriteBatch.builder()
                .setValue(RegistryPath.of(high), low, RegistryValue.dword(1))
                .setValue(RegistryPath.of(low), high, RegistryValue.dword(2))
                .setValue(RegistryPath.of(pair), pair, RegistryValue.dword(3)).build());
        r.addHealthFault(new HealthFault("id\uDFFF", 1, 2, text, text, 0));
        closeOpened();
        EmbeddedRegistry fromLog = open(Map.of("snapshotThreshold", "4KiB"), ChannelFactory.DEFAULT);
        assertThat(fromLog.subkeys(RegistryPath.root())).containsExactly(high, pair, low);
        assertThat(fromLog.getValue(RegistryPath.of(high), low)).map(v -> v.value().asDword()).contains(1);
        assertThat(fromLog.getValue(RegistryPath.of(low), high)).map(v -> v.value().asDword()).contains(2);
        assertThat(fromLog.getValue(RegistryPath.of(pair), pair)).map(v -> v.value().asDword()).contains(3);
        assertThat(fromLog.healthFaults()).containsExactly(new HealthFault("id\uDFFF", 1, 2, text, text, 0));
        // then from a snapshot: fill the log past the threshold
        for (int i = 0; i < 40; i++) {
            fromLog.commit(WriteBatch.builder().setValue(p("fill"), "v", RegistryValue.binary(new byte[200])).build());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !SnapshotFiles.list(dir).isEmpty() && !fromLog.snapshotInProgress());
        closeOpened();
        EmbeddedRegistry fromSnapshot = open(Map.of(), ChannelFactory.DEFAULT);
        assertThat(fromSnapshot.subkeys(RegistryPath.root())).containsExactly(high, pair, low, "fill");
        assertThat(fromSnapshot.getValue(RegistryPath.of(high), low)).map(v -> v.value().asDword()).contains(1);
        assertThat(fromSnapshot.getValue(RegistryPath.of(low), high)).map(v -> v.value().asDword()).contains(2);
        assertThat(fromSnapshot.healthFaults()).containsExactly(new HealthFault("id\uDFFF", 1, 2, text, text, 0));
    }

    /** The codec behind the test above: UTF-8 for every well-formed string, lossless for any other. */
    @Test
    void wtf8IsUtf8ForWellFormedTextAndLosslessForAnyOther() throws Exception {
        java.util.Random random = new java.util.Random(7);
        char[] interesting = {'a', '\u00e9', '\u0800', '\uD7FF', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uE000', '\uFFFF', '\u00ED'};
        for (int i = 0; i < 20_000; i++) {
            char[] cs = new char[random.nextInt(8)];
            for (int j = 0; j < cs.length; j++) {
                cs[j] = random.nextBoolean() ? interesting[random.nextInt(interesting.length)] : (char) random.nextInt(0x10000);
            }
            String s = new String(cs);
            byte[] encoded = Wtf8.encode(s);
            assertThat(Wtf8.decode(encoded)).as("round trip of %s", s.chars().mapToObj(Integer::toHexString).toList()).isEqualTo(s);
            if (java.nio.charset.StandardCharsets.UTF_8.newEncoder().canEncode(s)) {
                assertThat(encoded).isEqualTo(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    /**
     * flushOnce caught only IOException and RuntimeException around the log write, but always threw
     * the swapped buffer away. An Error there (the JDK's "Cannot reserve ... bytes of direct buffer
     * memory") dropped those records without fail-stop: in leader mode the next flush wrote the later
     * records and marked the dropped ones durable (their waiters returned success), and the log had a
     * gap that made the next open fail; in writer mode the writer thread died and SYNC commits hung.
     */
    @Test
    void anErrorWhileWritingTheLogStopsWritesLikeAnIoError() throws Exception {
        for (String mode : List.of("leader", "writer")) {
            Path sub = dir.resolve(mode);
            FaultyChannel.Faults faults = new FaultyChannel.Faults();
            EmbeddedRegistry r = EmbeddedRegistry.open(sub, EmbeddedOptions.parse(Map.of("groupCommit", mode)),
                    FaultyChannel.factory(faults, f -> f.getFileName().toString().startsWith("wal-")));
            opened.add(r);
            r.commit(WriteBatch.builder().setValue(p("k/1"), "v", RegistryValue.dword(1)).build());
            faults.writeError = true;
            CompletableFuture<CommitResult> second = CompletableFuture.supplyAsync(
                    () -> r.commit(WriteBatch.builder().setValue(p("k/2"), "v", RegistryValue.dword(2)).build()));
            assertThat(second).as(mode).failsWithin(Duration.ofSeconds(20)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .havingCause().isInstanceOfSatisfying(dev.reliablestore.registry.RegistryStoppedException.class,
                            e -> assertThat(e.outcomeUnknown()).isTrue());
            faults.writeError = false;
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(p("k/3"), "v", RegistryValue.dword(3)).build()))
                    .as(mode).isInstanceOf(dev.reliablestore.registry.RegistryStoppedException.class).hasMessageContaining("reopen");
            assertThat(r.checkHealth().healthy()).isFalse();
            r.close();
            opened.remove(r);
            try (EmbeddedRegistry again = EmbeddedRegistry.open(sub, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT)) {
                assertThat(again.getValue(p("k/1"), "v")).as(mode).isPresent();
                assertThat(again.keyExists(p("k/3"))).as(mode).isFalse();
            }
        }
    }
    /**
     * A caller's callback on an ASYNC future that closes the registry: the callback runs on the
     * completion thread, and close() waited for that thread to end, that is for itself, for its
     * whole 60 s.
     */
    @Test
    void anAsyncCallbackThatClosesTheRegistryDoesNotWaitForItself() throws Exception {
        EmbeddedRegistry r = open(Map.of("asyncFlushInterval", "200ms"), ChannelFactory.DEFAULT);
        AtomicReference<String> closedOn = new AtomicReference<>();
        CompletableFuture<CommitResult> async = r.commitAsync(WriteBatch.builder().setValue(RegistryPath.parse("k"), "v",
                RegistryValue.dword(1)).build());
        CompletableFuture<Void> closed = async.thenRun(() -> {
            r.close();
            closedOn.set(Thread.currentThread().getName());
        });
        await().atMost(Duration.ofSeconds(20)).until(closed::isDone);
        assertThat(closed).isCompleted();
        assertThat(closedOn.get()).as("the callback ran on the completion thread").startsWith("registry-async-completion");
        opened.clear();
        try (EmbeddedRegistry again = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT)) {
            assertThat(again.getValue(RegistryPath.parse("k"), "v")).isPresent();
        }
    }

    /**
     * A spare segment whose thread cannot start (no native thread can be created) leaves the log writing its steps of
     * zeros as before: the records of the flush that asked for it are forced, and an Error escaping there failed that
     * flush, stopping the registry with every committer of a batch on the disk told its outcome was unknown.
     */
    @Test
    void aSpareWhoseThreadCannotStartDoesNotFailAFlushOnTheDisk() throws Exception {
        Path segment = Files.createFile(WriteAheadLog.segmentPath(dir, 1));
        long threshold = 1 << 20;
        try (WriteAheadLog wal = new WriteAheadLog(dir, ChannelFactory.DEFAULT, segment, 0, threshold)) {
            wal.prepareSparesOn(task -> {
                throw new OutOfMemoryError("unable to create native thread (test)");
            });
            byte[] records = new byte[(int) WriteAheadLog.preallocationFor(threshold)];
            java.util.Arrays.fill(records, (byte) 7);
            wal.writeAndForce(records, records.length);
            wal.writeAndForce(records, records.length);
        }
        assertThat(Files.size(segment)).as("both flushes written").isGreaterThanOrEqualTo(2L * WriteAheadLog.preallocationFor(threshold));
    }
}
