package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Many batches of one registry instance are in flight at once (ZooKeeperCommitPipeline). These
 * tests check that concurrency changes nothing a caller can observe: conflicts are reported as a
 * serial execution would, the change feed sees every batch once in sequence order, and a
 * connection cut with many batches in flight settles each of them once.
 */
class ZooKeeperPipelineTest {

    static {
        ZkTestSupport.init();
    }

    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** Records the feed's batches in arrival order. */
    static final class Batches implements ChangeListener {
        final List<ChangeBatch> batches = new CopyOnWriteArrayList<>();
        final AtomicInteger resyncs = new AtomicInteger();

        @Override
        public void onBatch(ChangeBatch batch) {
            batches.add(batch);
        }

        @Override
        public void onResync(String reason) {
            resyncs.incrementAndGet();
        }
    }

    /** Records the feed; sequences in arrival order. */
    static final class Recorder implements ChangeListener {
        final List<Long> sequences = new CopyOnWriteArrayList<>();
        final AtomicInteger resyncs = new AtomicInteger();

        @Override
        public void onBatch(ChangeBatch batch) {
            sequences.add(batch.sequence());
        }

        @Override
        public void onResync(String reason) {
            resyncs.incrementAndGet();
        }
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void concurrentConflictingAndIndependentBatchesFromTwoInstancesActAsASerialExecution() throws Exception {
        String chroot = ZkTestSupport.freshChroot("pipeline-conflicts");
        int counters = 3;
        int threadsPerInstance = 4;
        int rounds = 25;
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath root = RegistryPath.of("c");
            for (int c = 0; c < counters; c++) {
                a.commit(WriteBatch.builder().setValue(root.child("n" + c), "v", RegistryValue.qword(0)).build());
            }
            Recorder feed = new Recorder();
            Set<Long> committed = ConcurrentHashMap.newKeySet();
            AtomicInteger[] increments = new AtomicInteger[counters];
            for (int c = 0; c < counters; c++) {
                increments[c] = new AtomicInteger();
            }
            AtomicInteger conflicts = new AtomicInteger();
            // in the first round every thread reads before any commits: conflicts are certain, not left to scheduling
            java.util.concurrent.CyclicBarrier allRead = new java.util.concurrent.CyclicBarrier(2 * threadsPerInstance);
            ExecutorService pool = Executors.newFixedThreadPool(2 * threadsPerInstance);
            try (Watch w = b.watch(RegistryPath.root(), feed)) {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 2 * threadsPerInstance; t++) {
                    ZooKeeperRegistry r = t % 2 == 0 ? a : b;
                    int thread = t;
                    done.add(pool.submit(() -> {
                        List<CompletableFuture<CommitResult>> own = new ArrayList<>();
                        for (int i = 0; i < rounds; i++) {
                            // an independent batch in flight next to the conflicting ones
                            own.add(r.commitAsync(WriteBatch.builder().setValue(RegistryPath.of("own", "t" + thread), "i", RegistryValue.dword(i)).build()));
                            int c = (thread + i) % counters;
                            RegistryPath key = root.child("n" + c);
                            VersionedValue seen = r.getValue(key, "v").orElseThrow();
                            if (i == 0) {
                                allRead.await(60, TimeUnit.SECONDS);
                            }
                            WriteBatch inc = WriteBatch.builder()
                                    .setValue(RegistryPath.of("touched", "t" + thread), "i", RegistryValue.dword(i))
                                    .requireRevision(key, "v", seen.revision())
                                    .setValue(key, "v", RegistryValue.qword(seen.value().asQword() + 1)).build();
                            try {
                                committed.add(r.commit(inc).sequence());
                                increments[c].incrementAndGet();
                            } catch (ConditionFailedException e) {
                                assertThat(e.failedCommandIndex()).isEqualTo(1);
                                conflicts.incrementAndGet();
                            }
                        }
                        for (CompletableFuture<CommitResult> f : own) {
                            committed.add(f.join().sequence());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
                for (int c = 0; c < counters; c++) {
                    // a serial execution applies exactly the increments that succeeded
                    assertThat(a.getValue(root.child("n" + c), "v").orElseThrow().value().asQword()).isEqualTo(increments[c].get());
                }
                for (int t = 0; t < 2 * threadsPerInstance; t++) {
                    assertThat(b.getValue(RegistryPath.of("own", "t" + t), "i").orElseThrow().value().asDword()).isEqualTo(rounds - 1);
                }
                assertThat(committed).hasSize(2 * threadsPerInstance * rounds + increments[0].get() + increments[1].get() + increments[2].get());
                // the first round's threads share 3 counters among 8: all but one per counter lose
                assertThat(conflicts.get()).as("conditions that lost to another instance's or thread's commit")
                        .isGreaterThanOrEqualTo(2 * threadsPerInstance - counters);
                await().atMost(Duration.ofSeconds(30)).until(() -> feed.sequences.size() >= committed.size());
                assertThat(feed.resyncs).hasValue(0);
                assertThat(feed.sequences).doesNotHaveDuplicates().isSorted().containsExactlyInAnyOrderElementsOf(committed);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void asyncBatchesOnOneKeyStayInCallOrderWhileOthersPipeline() {
        String chroot = ZkTestSupport.freshChroot("pipeline-order");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath chain = RegistryPath.of("chain");
            List<CompletableFuture<CommitResult>> ordered = new ArrayList<>();
            List<CompletableFuture<CommitResult>> others = new ArrayList<>();
            ordered.add(r.commitAsync(WriteBatch.builder().setValue(chain, "v", RegistryValue.dword(0)).build()));
            for (int i = 1; i < 200; i++) {
                ordered.add(r.commitAsync(WriteBatch.builder().requireValueEquals(chain, "v", RegistryValue.dword(i - 1))
                        .setValue(chain, "v", RegistryValue.dword(i)).build()));
                others.add(r.commitAsync(WriteBatch.builder().setValue(RegistryPath.of("free", "k" + i), "v", RegistryValue.dword(i)).build()));
            }
            long previous = 0;
            for (CompletableFuture<CommitResult> f : ordered) {
                long s = f.orTimeout(60, TimeUnit.SECONDS).join().sequence();
                assertThat(s).isGreaterThan(previous);
                previous = s;
            }
            others.forEach(CompletableFuture::join);
            assertThat(r.getValue(chain, "v").orElseThrow().value().asDword()).isEqualTo(199);
            // a batch on an ancestor waits for those below it: it sees all of them
            r.commitAsync(WriteBatch.builder().deleteKey(RegistryPath.of("free")).build()).join();
            assertThat(r.keyExists(RegistryPath.of("free"))).isFalse();
        }
    }

    /**
     * A caller with its own executor gets the answer handed from ZooKeeper's event thread straight to
     * it: one hand-off per answer, not two (through the registry's completion pool first). Its
     * failures arrive the same way, and a shut-down executor still gets an answer.
     */
    @Test
    void commitAsyncWithAnExecutorHandsTheAnswerOverOnce() {
        String chroot = ZkTestSupport.freshChroot("pipeline-executor");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            List<String> handedOverBy = new CopyOnWriteArrayList<>();
            ExecutorService callers = Executors.newSingleThreadExecutor(task -> new Thread(task, "caller-pool"));
            try {
                Executor executor = task -> {
                    handedOverBy.add(Thread.currentThread().getName());
                    callers.execute(task);
                };
                RegistryPath k = RegistryPath.of("exec");
                List<CompletableFuture<String>> done = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    done.add(r.commitAsync(WriteBatch.builder().setValue(k, "v" + i, RegistryValue.dword(i)).build(), executor)
                            .thenApply(result -> Thread.currentThread().getName()));
                }
                CompletableFuture<CommitResult> refused = r.commitAsync(WriteBatch.builder().requireValueAbsent(k, "v0")
                        .setValue(k, "w", RegistryValue.dword(1)).build(), executor);
                done.forEach(f -> assertThat(f.orTimeout(60, TimeUnit.SECONDS).join()).isIn("caller-pool", "main"));
                assertThat(refused).failsWithin(Duration.ofSeconds(60)).withThrowableOfType(ExecutionException.class)
                        .withCauseInstanceOf(ConditionFailedException.class);
                assertThat(handedOverBy).hasSize(21).noneMatch(name -> name.startsWith("zookeeper-registry-completion"));
                assertThat(handedOverBy.stream().filter(name -> name.endsWith("EventThread"))).as("the 20 saves' answers").hasSizeGreaterThanOrEqualTo(20);
            } finally {
                callers.shutdownNow();
            }
            // an executor that runs tasks inline must not make the caller's stages run on ZooKeeper's event thread
            assertThat(r.commitAsync(WriteBatch.builder().setValue(RegistryPath.of("exec"), "inline", RegistryValue.dword(1)).build(),
                    Runnable::run).thenApply(result -> Thread.currentThread().getName()).orTimeout(60, TimeUnit.SECONDS).join())
                    .doesNotEndWith("EventThread");
            ExecutorService gone = Executors.newSingleThreadExecutor();
            gone.shutdown();
            assertThat(r.commitAsync(WriteBatch.builder().setValue(RegistryPath.of("exec"), "late", RegistryValue.dword(1)).build(), gone)
                    .orTimeout(60, TimeUnit.SECONDS).join().sequence()).isPositive();
        }
    }

    @Test
    void aConnectionCutWithManyBatchesInFlightSettlesEachOnce() throws Exception {
        String chroot = ZkTestSupport.freshChroot("pipeline-cut");
        int batches = 40;
        for (boolean delivered : new boolean[] {true, false}) {
            try (CuttingProxy proxy = new CuttingProxy(server.getPort());
                 ZooKeeperRegistry r = ZkTestSupport.open(proxy.connectString(), chroot + (delivered ? "-applied" : "-lost"),
                         ZkTestSupport.options("failoverTimeout", "20000ms"))) {
                List<VersionedValue> before = new ArrayList<>();
                for (int i = 0; i < batches; i++) {
                    RegistryPath k = RegistryPath.of("k" + i);
                    r.commit(WriteBatch.builder().setValue(k, "n", RegistryValue.qword(0)).build());
                    before.add(r.getValue(k, "n").orElseThrow());
                }
                proxy.cutAtNextLargeRequest(16 * 1024, delivered);
                List<CompletableFuture<CommitResult>> inFlight = new ArrayList<>();
                for (int i = 0; i < batches; i++) {
                    RegistryPath k = RegistryPath.of("k" + i);
                    // conditional: a batch applied twice would fail its condition the second time
                    inFlight.add(r.commitAsync(WriteBatch.builder().requireRevision(k, "n", before.get(i).revision())
                            .setValue(k, "n", RegistryValue.qword(1))
                            .setValue(k, "padding", RegistryValue.binary(new byte[i == 0 ? 64 * 1024 : 0])).build()));
                }
                List<Long> sequences = new ArrayList<>();
                for (CompletableFuture<CommitResult> f : inFlight) {
                    try {
                        sequences.add(f.orTimeout(60, TimeUnit.SECONDS).join().sequence());
                    } catch (CompletionException e) {
                        throw new AssertionError("a batch in flight during the cut failed", e.getCause());
                    }
                }
                assertThat(proxy.cuts()).isEqualTo(1);
                assertThat(sequences).doesNotHaveDuplicates();
                for (int i = 0; i < batches; i++) {
                    VersionedValue after = r.getValue(RegistryPath.of("k" + i), "n").orElseThrow();
                    assertThat(after.value().asQword()).isEqualTo(1);
                    assertThat(after.revision()).isEqualTo(sequences.get(i));
                }
            }
        }
    }

    @Test
    void aBatchWhoseFactsAreKnownNeedsNoSnapshotRead() {
        String chroot = ZkTestSupport.freshChroot("cache-known");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("a", "b");
            long rev = r.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(0)).build()).sequence();
            long reads = r.snapshotReads();
            for (int i = 1; i <= 5; i++) {
                rev = r.commit(WriteBatch.builder().requireRevision(k, "v", rev).setValue(k, "v", RegistryValue.dword(i)).build()).sequence();
            }
            ConditionFailedException stale = org.assertj.core.api.Assertions.catchThrowableOfType(ConditionFailedException.class,
                    () -> r.commit(WriteBatch.builder().requireKeyExists(k).requireRevision(k, "v", 1).build()));
            assertThat(stale.failedCommandIndex()).isEqualTo(1);
            assertThat(r.snapshotReads()).as("conditions built from what the registry learned from its own commits").isEqualTo(reads);
            assertThat(r.getValue(k, "v").orElseThrow()).isEqualTo(new VersionedValue(RegistryValue.dword(5), rev));
        }
    }

    @Test
    void aValueAbsentUnderAMissingKeyIsKnownAfterTheFirstBatch() {
        String chroot = ZkTestSupport.freshChroot("cache-absent-key");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("a");
            RegistryPath locks = RegistryPath.of("locks", "of", "a");
            long rev = r.commit(WriteBatch.builder().requireValueAbsent(locks, "v").setValue(k, "v", RegistryValue.dword(0)).build()).sequence();
            long reads = r.snapshotReads();
            for (int i = 1; i <= 5; i++) {
                rev = r.commit(WriteBatch.builder().requireRevision(k, "v", rev).requireValueAbsent(locks, "v")
                        .setValue(k, "v", RegistryValue.dword(i)).build()).sequence();
            }
            assertThat(r.snapshotReads()).as("below a key known to be missing, nothing is").isEqualTo(reads);
            r.commit(WriteBatch.builder().setValue(locks, "v", RegistryValue.dword(1)).build());
            ConditionFailedException locked = org.assertj.core.api.Assertions.catchThrowableOfType(ConditionFailedException.class,
                    () -> r.commit(WriteBatch.builder().requireRevision(k, "v", r.getValue(k, "v").orElseThrow().revision())
                            .requireValueAbsent(locks, "v").setValue(k, "v", RegistryValue.dword(9)).build()));
            assertThat(locked.failedCommandIndex()).isEqualTo(1);
            assertThat(r.getValue(k, "v").orElseThrow().value()).isEqualTo(RegistryValue.dword(5));
        }
    }

    @Test
    void aCacheMadeStaleByAnotherInstanceCausesNoFalseConflictAndNoLostUpdate() {
        String chroot = ZkTestSupport.freshChroot("cache-stale");
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("s", "k");
            long mine = a.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(1)).build()).sequence();
            // b moves the value on: a's facts about it are stale, and a condition on b's revision holds
            long theirs = b.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(2)).build()).sequence();
            long next = a.commit(WriteBatch.builder().requireRevision(k, "v", theirs).setValue(k, "v", RegistryValue.dword(3)).build()).sequence();
            assertThat(a.getValue(k, "v").orElseThrow()).isEqualTo(new VersionedValue(RegistryValue.dword(3), next));

            // b deletes and re-creates the key until the value's znode version is what a cached
            mine = next;
            b.commit(WriteBatch.builder().deleteKey(RegistryPath.of("s")).build());
            long latest = 0;
            for (int i = 0; i < 3; i++) {
                latest = b.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(10 + i)).build()).sequence();
            }
            long old = mine;
            ConditionFailedException real = org.assertj.core.api.Assertions.catchThrowableOfType(ConditionFailedException.class,
                    () -> a.commit(WriteBatch.builder().requireRevision(k, "v", old).setValue(k, "v", RegistryValue.dword(99)).build()));
            assertThat(real.failedCommandIndex()).as("the revision really changed").isEqualTo(0);
            assertThat(a.getValue(k, "v").orElseThrow().value().asDword()).isEqualTo(12);
            a.commit(WriteBatch.builder().requireRevision(k, "v", latest).setValue(k, "v", RegistryValue.dword(13)).build());

            // a believes the value exists; b deleted it: a's unconditional write must still land
            b.commit(WriteBatch.builder().deleteValue(k, "v").build());
            long last = a.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(14)).build()).sequence();
            assertThat(b.getValue(k, "v").orElseThrow()).isEqualTo(new VersionedValue(RegistryValue.dword(14), last));
            // and a believes a key exists that b removed: absent-conditions must see it gone
            b.commit(WriteBatch.builder().deleteKey(k).build());
            a.commit(WriteBatch.builder().requireKeyAbsent(k).setValue(RegistryPath.of("s", "marker"), "m", RegistryValue.dword(1)).build());
            assertThat(b.getValue(RegistryPath.of("s", "marker"), "m")).isPresent();
        }
    }

    /**
     * A batch creates a key the cache calls absent, and a later condition looks below it: its answer
     * rests on that absent fact, which another instance made stale. The fact must travel (the multi
     * fails, the cache is refreshed) instead of the condition failing unproven, on every retry.
     */
    @Test
    void aConditionBelowAKeyTheBatchCreatesOnAStaleAbsentFactIsNotAFalseConflict() {
        String chroot = ZkTestSupport.freshChroot("cache-stale-created");
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("s", "k");
            RegistryPath other = RegistryPath.of("other");
            // a learns "s and s/k absent" (its guard's create+delete of s)
            a.commit(WriteBatch.builder().requireValueAbsent(k, "lock").setValue(other, "x", RegistryValue.dword(1)).build());
            b.commit(WriteBatch.builder().setValue(k, "b", RegistryValue.dword(2)).build());
            long reads = a.snapshotReads();
            long seq = a.commit(WriteBatch.builder().setValue(k, "a", RegistryValue.dword(3)).requireValueExists(k, "b").build()).sequence();
            assertThat(b.getValue(k, "a").orElseThrow()).isEqualTo(new VersionedValue(RegistryValue.dword(3), seq));
            assertThat(a.snapshotReads()).as("the stale fact failed the multi once, one snapshot read refreshed it").isEqualTo(reads + 1);

            // the first false condition is reported, not a later one that held on the stale fact
            RegistryPath k2 = RegistryPath.of("t", "k");
            a.commit(WriteBatch.builder().requireValueAbsent(k2, "lock").setValue(other, "x", RegistryValue.dword(4)).build());
            b.commit(WriteBatch.builder().setValue(k2, "b", RegistryValue.dword(5)).setValue(k2, "c", RegistryValue.dword(6)).build());
            ConditionFailedException failed = org.assertj.core.api.Assertions.catchThrowableOfType(ConditionFailedException.class,
                    () -> a.commit(WriteBatch.builder().setValue(k2, "a", RegistryValue.dword(7)).requireValueAbsent(k2, "b")
                            .requireValueExists(k2, "c").build()));
            assertThat(failed).isNotNull();
            assertThat(failed.failedCommandIndex()).isEqualTo(1);
            assertThat(b.getValue(k2, "a")).as("nothing of the batch applied").isEmpty();
            // the same batch minus the false condition commits
            a.commit(WriteBatch.builder().setValue(k2, "a", RegistryValue.dword(7)).requireValueExists(k2, "c").build());
            assertThat(b.getValue(k2, "a").orElseThrow().value()).isEqualTo(RegistryValue.dword(7));

            // a learns the absent facts from a condition proved false instead
            RegistryPath k3 = RegistryPath.of("u", "k");
            assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(ConditionFailedException.class,
                    () -> a.commit(WriteBatch.builder().requireValueExists(k3, "b").setValue(k3, "a", RegistryValue.dword(8)).build()))).isNotNull();
            b.commit(WriteBatch.builder().setValue(k3, "b", RegistryValue.dword(9)).build());
            a.commit(WriteBatch.builder().setValue(k3, "a", RegistryValue.dword(10)).requireValueExists(k3, "b").build());
            assertThat(b.getValue(k3, "a").orElseThrow().value()).isEqualTo(RegistryValue.dword(10));
        }
    }

    @Test
    void aRevisionConditionTheValueHasPassedFailsAtOnceThoughTheValueChangesAfterEveryRead() {
        String chroot = ZkTestSupport.freshChroot("passed-revision");
        // a short failover timeout: a commit that keeps re-planning gives up within it instead of failing the condition
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options("failoverTimeout", "3000"));
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("hot", "k");
            long stale = a.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(0)).build()).sequence();
            b.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(1)).build());
            AtomicInteger reads = new AtomicInteger();
            // another writer changes the value after each of a's snapshot reads, as a writer that never
            // pauses does now and then: a multi proving the condition false would fail every time
            a.afterSnapshotRead = () -> b.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(2 + reads.getAndIncrement())).build());
            ConditionFailedException lost = org.assertj.core.api.Assertions.catchThrowableOfType(ConditionFailedException.class,
                    () -> a.commit(WriteBatch.builder().requireRevision(k, "v", stale).setValue(k, "w", RegistryValue.dword(1)).build()));
            a.afterSnapshotRead = null;
            assertThat(lost).as("the condition failed (the revision had passed when it was read)").isNotNull();
            assertThat(lost.failedCommandIndex()).isEqualTo(0);
            assertThat(reads.get()).as("snapshot reads: the stale cached fact failed the first multi, one read settled it").isEqualTo(1);
            assertThat(b.getValue(k, "w")).as("nothing of the batch applied").isEmpty();
            assertThat(b.getValue(k, "v").orElseThrow().value()).isEqualTo(RegistryValue.dword(2));
        }
    }

    /**
     * Re-plans (another writer got there first) are not connection problems: they do not grow the
     * pause before the retry of a connection problem that follows them. Each pause is observed as
     * it is chosen; nothing is timed.
     */
    @Test
    void rePlansDoNotGrowThePauseAfterALaterConnectionProblem() {
        String chroot = ZkTestSupport.freshChroot("replan-pause");
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("toggled", "k");
            AtomicInteger reads = new AtomicInteger();
            List<Long> pauses = new CopyOnWriteArrayList<>();
            a.onRetryPause = pauses::add;
            // b creates and deletes the key between a's snapshot read and its multi (five re-plans), then
            // three snapshot reads end in a lost connection, then a's commit goes through
            a.afterSnapshotRead = () -> {
                int n = reads.getAndIncrement();
                if (n < 5) {
                    b.commit(n % 2 == 0 ? WriteBatch.builder().setValue(k, "v", RegistryValue.dword(100 + n)).build()
                            : WriteBatch.builder().deleteKey(k).build());
                } else if (n < 8) {
                    throw new CompletionException(new org.apache.zookeeper.KeeperException.ConnectionLossException());
                }
            };
            a.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(1)).build());
            a.afterSnapshotRead = null;
            a.onRetryPause = null;
            assertThat(reads.get()).as("snapshot reads: 5 re-planned, 3 lost, 1 committed").isEqualTo(9);
            assertThat(pauses).as("the pauses of the three connection retries, in ms").containsExactly(1L, 2L, 4L);
            assertThat(b.getValue(k, "v").orElseThrow().value()).isEqualTo(RegistryValue.dword(1));
        }
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void aWatchingInstanceForgetsTheFactsAnotherInstanceChanged() {
        String chroot = ZkTestSupport.freshChroot("cache-feed");
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            RegistryPath k = RegistryPath.of("f", "k");
            Recorder feed = new Recorder();
            try (Watch w = a.watch(RegistryPath.root(), feed)) {
                long mine = a.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(1)).build()).sequence();
                String vp = a.layout().valuePath(k, "v");
                assertThat(a.conditionCache().knownToExist(vp)).as("learned from its own commit").isTrue();
                long theirs = b.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(2)).build()).sequence();
                await().atMost(Duration.ofSeconds(30)).until(() -> feed.sequences.contains(theirs));
                assertThat(feed.sequences).containsExactly(mine, theirs);
                assertThat(a.conditionCache().get(vp)).as("forgotten: another instance changed it").isNull();
                long next = a.commit(WriteBatch.builder().requireRevision(k, "v", theirs).setValue(k, "v", RegistryValue.dword(3)).build()).sequence();
                assertThat(b.getValue(k, "v").orElseThrow()).isEqualTo(new VersionedValue(RegistryValue.dword(3), next));
            }
        }
    }

    @SuppressWarnings("try") // the resources are held open for the body, never used by name
    @Test
    void aWatchingInstanceTakesItsOwnBatchesFromWhatItSentAndSeesWhatOthersReadBack() throws Exception {
        String chroot = ZkTestSupport.freshChroot("own-entries");
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            Batches a1 = new Batches();
            Batches b1 = new Batches();
            List<ChangeBatch> mine = a1.batches;
            List<ChangeBatch> read = b1.batches;
            try (Watch wa = a.watch(RegistryPath.root(), a1);
                 Watch wb = b.watch(RegistryPath.root(), b1)) {
                a.commit(WriteBatch.builder().setValue(RegistryPath.of("o", "warm"), "v", RegistryValue.dword(0)).build());
                await().atMost(Duration.ofSeconds(30)).until(() -> mine.size() == 1 && read.size() == 1);
                // a takes its own batches from what it sent; b, another instance, reads each entry
                for (int i = 0; i < 30; i++) {
                    a.commit(WriteBatch.builder().setValue(RegistryPath.of("o", "k" + (i % 3)), "v", RegistryValue.binary(new byte[] {(byte) i})).build());
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> mine.size() == 31 && read.size() == 31);
                assertThat(a.changeLogEntriesRead()).as("log entries a read back").isZero();
                assertThat(b.changeLogEntriesRead()).as("log entries b read").isEqualTo(31);
                // coalesced multis: each batch's own entry carries its index in the multi
                long coalescedBefore = a.pipeline().coalescedMultis();
                List<CompletableFuture<CommitResult>> futures = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    futures.add(a.commitAsync(WriteBatch.builder().setValue(RegistryPath.of("o", "c" + i), "v", RegistryValue.dword(i)).build()));
                }
                List<Long> sequences = new ArrayList<>();
                futures.forEach(f -> sequences.add(f.orTimeout(60, TimeUnit.SECONDS).join().sequence()));
                await().atMost(Duration.ofSeconds(30)).until(() -> mine.size() == 331 && read.size() == 331);
                assertThat(a.pipeline().coalescedMultis()).as("batches that shared a multi").isGreaterThan(coalescedBefore);
                assertThat(a.changeLogEntriesRead()).as("log entries a read back").isZero();
                assertThat(a1.resyncs).hasValue(0);
                assertThat(b1.resyncs).hasValue(0);
                assertThat(mine).as("the batches a took from what it sent are the ones b read").isEqualTo(read);
                assertThat(mine.stream().map(ChangeBatch::sequence).toList()).isSorted().doesNotHaveDuplicates().containsAll(sequences);
            }
        }
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void coalescedBatchesKeepDistinctIncreasingSequencesAndSeparateChangeBatches() {
        String chroot = ZkTestSupport.freshChroot("group");
        int batches = 1000;
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            for (int i = 0; i < batches; i++) {
                a.commit(WriteBatch.builder().setValue(RegistryPath.of("g", "k" + i), "v", RegistryValue.dword(-1)).build());
            }
            Recorder feed = new Recorder();
            List<CompletableFuture<CommitResult>> futures = new ArrayList<>();
            try (Watch w = b.watch(RegistryPath.of("g"), feed)) {
                long coalescedBefore = a.pipeline().coalescedMultis();
                for (int i = 0; i < batches; i++) {
                    futures.add(a.commitAsync(WriteBatch.builder().setValue(RegistryPath.of("g", "k" + i), "v", RegistryValue.dword(i)).build()));
                }
                List<Long> sequences = new ArrayList<>();
                futures.forEach(f -> sequences.add(f.orTimeout(60, TimeUnit.SECONDS).join().sequence()));
                // 1,000 batches issued faster than multis complete: some must have shared a multi
                assertThat(a.pipeline().coalescedMultis()).isGreaterThan(coalescedBefore);
                assertThat(sequences).doesNotHaveDuplicates();
                for (int i = 0; i < batches; i++) {
                    RegistryPath k = RegistryPath.of("g", "k" + i);
                    assertThat(b.getValue(k, "v").orElseThrow()).isEqualTo(new VersionedValue(RegistryValue.dword(i), sequences.get(i)));
                }
                long newest = sequences.stream().mapToLong(Long::longValue).max().orElseThrow();
                assertThat(b.currentSequence()).isGreaterThanOrEqualTo(newest);
                assertThat(b.values(RegistryPath.of("g", "k0")).get("v").revision()).isEqualTo(sequences.get(0));
                await().atMost(Duration.ofSeconds(30)).until(() -> feed.sequences.size() >= batches);
                assertThat(feed.resyncs).hasValue(0);
                assertThat(feed.sequences).isSorted().doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(sequences);
                // revisions of coalesced batches work as conditions, from a snapshot (b) and from the cache (a)
                for (int i = 0; i < 3; i++) {
                    RegistryPath k = RegistryPath.of("g", "k" + i);
                    long r1 = b.commit(WriteBatch.builder().requireRevision(k, "v", sequences.get(i)).setValue(k, "v", RegistryValue.dword(10)).build()).sequence();
                    a.commit(WriteBatch.builder().requireRevision(k, "v", r1).setValue(k, "v", RegistryValue.dword(11)).build());
                }
            }
        }
    }

    @Test
    void aBatchThatFailsACoalescedMultiFailsAloneAndItsNeighboursCommit() {
        String chroot = ZkTestSupport.freshChroot("group-conflict");
        int keys = 200;
        try (ZooKeeperRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry b = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            long[] known = new long[keys];
            for (int i = 0; i < keys; i++) {
                known[i] = a.commit(WriteBatch.builder().setValue(RegistryPath.of("c", "k" + i), "v", RegistryValue.dword(0)).build()).sequence();
            }
            // b moves every even key on: a's cached facts about those are stale, its conditions on them false
            for (int i = 0; i < keys; i += 2) {
                b.commit(WriteBatch.builder().setValue(RegistryPath.of("c", "k" + i), "v", RegistryValue.dword(2)).build());
            }
            List<CompletableFuture<CommitResult>> futures = new ArrayList<>();
            long coalescedBefore = a.pipeline().coalescedMultis();
            long sharedBefore = a.pipeline().sharedGuards();
            for (int i = 0; i < keys; i++) {
                RegistryPath k = RegistryPath.of("c", "k" + i);
                futures.add(a.commitAsync(WriteBatch.builder().requireRevision(k, "v", known[i]).setValue(k, "v", RegistryValue.dword(1)).build()));
            }
            for (int i = 0; i < keys; i++) {
                CompletableFuture<CommitResult> f = futures.get(i).orTimeout(60, TimeUnit.SECONDS);
                Throwable t = org.assertj.core.api.Assertions.catchThrowable(f::join);
                VersionedValue now = b.getValue(RegistryPath.of("c", "k" + i), "v").orElseThrow();
                if (i % 2 == 0) {
                    assertThat(t).isInstanceOf(CompletionException.class);
                    assertThat(t.getCause()).isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isZero());
                    assertThat(now.value().asDword()).isEqualTo(2);
                } else {
                    assertThat(t).isNull();
                    assertThat(now).isEqualTo(new VersionedValue(RegistryValue.dword(1), f.join().sequence()));
                }
            }
            assertThat(a.pipeline().coalescedMultis()).as("conflicting and clean batches shared multis").isGreaterThan(coalescedBefore);
            // batches sharing a multi also shared the version checks of the keys above their values
            assertThat(a.pipeline().sharedGuards()).as("guards an earlier batch of the multi stood for").isGreaterThan(sharedBefore);
        }
    }
}
