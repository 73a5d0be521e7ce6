package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A connection cut while a multi is in flight leaves its outcome unknown to ZooKeeper's client
 * (CURATOR-268/584). The registry fences the batch's change-log entry to learn the truth: an
 * applied batch is reported committed (not retried), an unapplied one is retried exactly once, and
 * only when no server answers within the failover timeout is the outcome reported unknown.
 */
class ZooKeeperAmbiguousOutcomeTest {

    static {
        ZkTestSupport.init();
    }

    private static TestingServer server;
    private static final RegistryPath KEY = RegistryPath.of("counters");

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** Bytes of padding that make the increment's multi the only large request on the wire. */
    private static final int PADDING = 64 * 1024;
    private static final int LARGE = 16 * 1024;

    private static WriteBatch increment(VersionedValue current) {
        return WriteBatch.builder().requireRevision(KEY, "n", current.revision())
                .setValue(KEY, "n", RegistryValue.qword(current.value().asQword() + 1))
                .setValue(KEY, "padding", RegistryValue.binary(new byte[PADDING])).build();
    }

    private static long fences(String chroot) throws Exception {
        try (CuratorFramework raw = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            long n = 0;
            for (String bucket : raw.getChildren().forPath(chroot + "/log")) {
                for (String entry : raw.getChildren().forPath(chroot + "/log/" + bucket)) {
                    if (ZnodeLayout.isFence(raw.getData().forPath(chroot + "/log/" + bucket + "/" + entry))) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    @Test
    void anAnswerLostAfterTheServerAppliedTheBatchIsReportedCommittedNotRepeated() throws Exception {
        // no fence: the entry was found applied
        incrementOnceThrough("ambiguous-applied", proxy -> proxy.cutAtNextLargeRequest(LARGE, true), 1, 0);
    }

    /**
     * The fence found the batch's entry, and the answer to the read of that entry was lost too: the
     * batch was then planned and sent anew as if nothing had been in flight, and a conditional one
     * failed its condition on its own committed write. It reads the entry again instead.
     */
    @Test
    void anAnswerLostWhileReadingTheFoundEntryIsReadAgainNotSentAnew() throws Exception {
        incrementOnceThrough("ambiguous-entry-read", proxy -> {
            proxy.cutAtNextLargeRequest(LARGE, true);
            proxy.cutAtNextLargeAnswer(LARGE); // the entry's content: the padding is in it
        }, 2, 0);
    }

    @Test
    void aRequestLostBeforeTheServerSawItIsFencedAndAppliedOnce() throws Exception {
        // the lost batch's entry was fenced before the retry
        incrementOnceThrough("ambiguous-lost", proxy -> proxy.cutAtNextLargeRequest(LARGE, false), 1, 1);
    }

    /**
     * The proxy named twice. After a cut, ZooKeeper's client waits a second before it connects again to a
     * connect string whose every address it has tried since it last connected (StaticHostProvider's spin
     * delay), on top of its random wait of up to a second: with a second address the first wait goes. These
     * tests are about what a cut leaves ambiguous, not about how soon the client reconnects; the refusing
     * ones, where the client's attempts run into the failover timeout, keep a single address.
     */
    private static String reconnectingAtOnce(CuttingProxy proxy) {
        return proxy.connectString() + "," + proxy.connectString();
    }

    /**
     * Commits one conditional increment through a proxy that {@code arm} sets up to cut; asserts the
     * cuts, that it applied exactly once at the sequence returned, and the fences left in the log.
     */
    private void incrementOnceThrough(String name, Consumer<CuttingProxy> arm, int cuts, int fencesLeft) throws Exception {
        String chroot = ZkTestSupport.freshChroot(name);
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(reconnectingAtOnce(proxy), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"))) {
            registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
            VersionedValue before = registry.getValue(KEY, "n").orElseThrow();
            arm.accept(proxy);
            CommitResult r = registry.commit(increment(before));
            assertThat(proxy.cuts()).as("connections cut during the commit").isEqualTo(cuts);
            VersionedValue after = registry.getValue(KEY, "n").orElseThrow();
            assertThat(after.value().asQword()).as("applied exactly once").isEqualTo(1);
            assertThat(after.revision()).isEqualTo(r.sequence());
            assertThat(fences(chroot)).as("fences in the change log").isEqualTo(fencesLeft);
        }
    }

    /**
     * Arms a cut of the next large request after the server got it, and refuses every connection as
     * soon as the cut happened: the server becomes unreachable with the batch applied. Join the
     * thread returned after the commit.
     */
    private static Thread cutThenRefuse(CuttingProxy proxy) {
        proxy.cutAtNextLargeRequest(LARGE, true);
        Thread refuser = new Thread(() -> {
            while (proxy.cuts() == 0) {
                Thread.onSpinWait();
            }
            proxy.refuse(true);
        });
        refuser.start();
        return refuser;
    }

    @Test
    void manyCutsUnderConditionalIncrementsLoseAndRepeatNothing() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-many");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(reconnectingAtOnce(proxy), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"))) {
            registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
            int acknowledged = 0;
            for (int i = 0; i < 6; i++) {
                if (i % 2 == 0) {
                    proxy.cutAtNextLargeRequest(LARGE, true);
                } else {
                    proxy.cutAtNextLargeRequest(LARGE, false);
                }
                registry.commit(increment(registry.getValue(KEY, "n").orElseThrow()));
                acknowledged++;
            }
            assertThat(proxy.cuts()).isEqualTo(6);
            assertThat(registry.getValue(KEY, "n").orElseThrow().value().asQword()).isEqualTo(acknowledged);
        }
    }

    @Test
    void whenNoServerAnswersWithinTheFailoverTimeoutTheOutcomeIsReportedUnknown() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-unknown");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(proxy.connectString(), chroot,
                     ZkTestSupport.options("failoverTimeout", "1500ms", "sessionTimeout", "4000ms", "connectionTimeout", "1000ms"))) {
            registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
            VersionedValue before = registry.getValue(KEY, "n").orElseThrow();
            Thread refuser = cutThenRefuse(proxy);
            assertThatThrownBy(() -> registry.commit(increment(before)))
                    .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining("may or may not");
            refuser.join();
            proxy.refuse(false);
            // the truth is there to be read once the server is back: the server did apply it
            await().atMost(Duration.ofSeconds(15)).ignoreExceptionsInstanceOf(RegistryUnavailableException.class)
                    .untilAsserted(() -> assertThat(registry.getValue(KEY, "n").orElseThrow().value().asQword()).isEqualTo(1));
        }
    }

    /**
     * The registry is closed while it verifies a batch whose answer was lost (the server applied it):
     * the commit must say its outcome is unknown. It failed with {@code RegistryClosedException},
     * which a caller reads as "nothing was written".
     */
    @Test
    void aRegistryClosedWhileVerifyingALostAnswerReportsTheOutcomeUnknown() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-closed");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort())) {
            ZooKeeperRegistry registry = ZkTestSupport.open(proxy.connectString(), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"));
            try {
                registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
                VersionedValue before = registry.getValue(KEY, "n").orElseThrow();
                Thread refuser = cutThenRefuse(proxy); // no reconnect: the verification waits until the registry closes
                CompletableFuture<CommitResult> inFlight = registry.commitAsync(increment(before));
                refuser.join();
                Thread closer = new Thread(registry::close, "closer");
                closer.start();
                assertThatThrownBy(() -> inFlight.get(15, TimeUnit.SECONDS)).cause()
                        .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                        .hasMessageContaining("was closed while").hasMessageContaining("may or may not");
                proxy.refuse(false);
                closer.join();
            } finally {
                proxy.refuse(false);
                registry.close();
            }
            try (ZooKeeperRegistry direct = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
                assertThat(direct.getValue(KEY, "n").orElseThrow().value().asQword()).as("the server applied the batch").isEqualTo(1);
            }
        }
    }

    /**
     * The server applied the batch and its answer was lost; the verification then fails without a
     * proof either way (here: Curator gives no handle, as when it re-throws a failed reset): the
     * commit must say its outcome is unknown. It failed with the handle's error, outcome known.
     */
    @Test
    void aVerificationThatFailsWithoutAProofReportsTheOutcomeUnknown() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-no-handle");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(reconnectingAtOnce(proxy), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"))) {
            registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
            VersionedValue before = registry.getValue(KEY, "n").orElseThrow();
            AtomicInteger fencesTried = new AtomicInteger();
            registry.beforeFence = entry -> {
                if (fencesTried.getAndIncrement() == 0) {
                    throw new RegistryUnavailableException("no ZooKeeper handle: injected", null);
                }
            };
            proxy.cutAtNextLargeRequest(LARGE, true);
            assertThatThrownBy(() -> registry.commit(increment(before)))
                    .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContainingAll("could not be verified", "no ZooKeeper handle: injected", "may or may not");
            assertThat(fencesTried).hasValue(1);
            assertThat(registry.getValue(KEY, "n").orElseThrow().value().asQword()).as("the server applied it").isEqualTo(1);

            // a verdict already "unknown" (as a nested verification gives after the failover timeout) is passed on as it is
            VersionedValue now = registry.getValue(KEY, "n").orElseThrow();
            RegistryUnavailableException verdict = new RegistryUnavailableException("no server answered: injected", null, true);
            registry.beforeFence = entry -> {
                throw verdict;
            };
            proxy.cutAtNextLargeRequest(LARGE, true);
            assertThatThrownBy(() -> registry.commit(increment(now))).isSameAs(verdict);
        }
    }

    /** A hook before a fence that counts it and removes the bucket of the entry it fences, with what is in it. */
    private static Consumer<String> removingTheBucket(CuratorFramework raw, AtomicInteger fences) {
        return entry -> {
            fences.incrementAndGet();
            try {
                raw.delete().deletingChildrenIfNeeded().forPath(entry.substring(0, entry.lastIndexOf('/')));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /**
     * The batch applied, its answer was lost, and the change log's collection took its entry's bucket
     * before the fence (as when the commit outlasted feedRetention, or the writer's clock is behind the
     * primary's): the fence's NONODE was read as "not committed" and the batch was planned and sent
     * again. Nothing proves either outcome any more, so the commit says it is unknown.
     */
    @Test
    void anAppliedBatchWhoseEntryWasCollectedBeforeItsVerificationIsReportedUnknownNotSentAgain() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-collected");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(reconnectingAtOnce(proxy), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"));
             CuratorFramework raw = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
            VersionedValue before = registry.getValue(KEY, "n").orElseThrow();
            AtomicInteger fencesTried = new AtomicInteger();
            // what the primary's collection does to a bucket older than feedRetention
            registry.beforeFence = removingTheBucket(raw, fencesTried);
            proxy.cutAtNextLargeRequest(LARGE, true);
            assertThatThrownBy(() -> registry.commit(increment(before)))
                    .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContainingAll("was collected before the outcome could be read", "may or may not");
            assertThat(fencesTried).hasValue(1);
            VersionedValue after = registry.getValue(KEY, "n").orElseThrow();
            assertThat(after.value().asQword()).as("applied by the server once, not sent again").isEqualTo(1);
        }
    }

    /**
     * The answer to the creation of a new change-log bucket is lost, and the bucket was not created
     * (the fence finds no bucket): the batch's multi was never sent, so it is sent now, and applies
     * once; a missing bucket only leaves the outcome unknown once the batch's multi was sent.
     */
    @Test
    void aBatchWhoseBucketCreationWasLostAndNotAppliedIsSentAndAppliedOnce() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-bucket");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(reconnectingAtOnce(proxy), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"));
             CuratorFramework raw = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            raw.start();
            registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build());
            VersionedValue before = registry.getValue(KEY, "n").orElseThrow();
            // the bucket goes: the next batch fails on it (outcome known) and creates it again
            for (String bucket : raw.getChildren().forPath(chroot + "/log")) {
                raw.delete().deletingChildrenIfNeeded().forPath(chroot + "/log/" + bucket);
            }
            AtomicInteger fencesTried = new AtomicInteger();
            // as if the lost creation had not reached the server
            registry.beforeFence = removingTheBucket(raw, fencesTried);
            byte[] bucketPrefix = (chroot + "/log/b-").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            proxy.cutAfterNextRequest(request -> request.length < LARGE && contains(request, bucketPrefix));
            long sequence = registry.commit(increment(before)).sequence();
            assertThat(proxy.cuts()).as("the bucket's creation was cut").isEqualTo(1);
            assertThat(fencesTried).hasValue(1);
            VersionedValue after = registry.getValue(KEY, "n").orElseThrow();
            assertThat(after.value().asQword()).isEqualTo(1);
            assertThat(after.revision()).isEqualTo(sequence);
        }
    }

    /**
     * Batches still waiting for a multi's slot when the registry closes never reached a server: they
     * fail as closed ("not written"), while the multis in flight are reported outcome unknown.
     */
    @Test
    void batchesStillWaitingForAMultiWhenTheRegistryClosesAreReportedNotWritten() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-waiting");
        int batches = ZooKeeperCommitPipeline.MAX_MULTIS_IN_FLIGHT + 4;
        List<CompletableFuture<CommitResult>> commits = new ArrayList<>();
        try (CuttingProxy proxy = new CuttingProxy(server.getPort())) {
            ZooKeeperRegistry registry = ZkTestSupport.open(proxy.connectString(), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"));
            try {
                for (int i = 0; i < batches; i++) {
                    registry.commit(WriteBatch.builder().setValue(KEY, "v" + i, RegistryValue.qword(0)).build());
                }
                // silent: the multis sent now are neither answered nor failed, so the rest wait for their slots
                proxy.partition(true);
                for (int i = 0; i < batches; i++) {
                    commits.add(registry.commitAsync(WriteBatch.builder().setValue(KEY, "v" + i, RegistryValue.qword(1)).build()));
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> registry.pipeline().waitingBatches() == 4);
                Thread closer = new Thread(registry::close, "closer");
                closer.start();
                await().atMost(Duration.ofSeconds(5)).until(() -> commits.stream().filter(CompletableFuture::isDone).count() >= 4);
                proxy.partition(false); // the client's close and its lost multis now end at once
                closer.join();
                List<Throwable> failures = new ArrayList<>();
                for (CompletableFuture<CommitResult> c : commits) {
                    assertThatThrownBy(() -> c.get(15, TimeUnit.SECONDS)).satisfies(e -> failures.add(e.getCause()));
                }
                assertThat(failures).filteredOn(RegistryClosedException.class::isInstance).as("never sent: not written").hasSize(4);
                assertThat(failures).filteredOn(e -> !(e instanceof RegistryClosedException))
                        .hasSize(ZooKeeperCommitPipeline.MAX_MULTIS_IN_FLIGHT)
                        .allSatisfy(e -> assertThat(e).isInstanceOfSatisfying(RegistryUnavailableException.class,
                                u -> assertThat(u.outcomeUnknown()).as("sent, answer lost").isTrue()));
            } finally {
                proxy.partition(false);
                registry.close();
            }
        }
        try (ZooKeeperRegistry direct = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            for (int i = 0; i < batches; i++) {
                assertThat(direct.getValue(KEY, "v" + i).orElseThrow().value().asQword()).as("v" + i + ": the partition dropped every multi").isZero();
            }
        }
    }

    /** A multi request ({@code ZooDefs.OpCode.multi}) whose first op is a delete, as jute writes the two type codes. */
    private static final byte[] MULTI_DELETE = {0, 0, 0, 14, 0, 0, 0, 2};

    private static boolean contains(byte[] bytes, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= bytes.length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (bytes[i + j] != part[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * The server removes the fault and the answer is lost: the retried delete finds nothing. The
     * call removed a fault that existed, and says so.
     */
    @Test
    void aHealthFaultRemovedWhoseAnswerWasLostIsReportedRemoved() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-fault");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(reconnectingAtOnce(proxy), chroot, ZkTestSupport.options("failoverTimeout", "10000ms"))) {
            String id = "disk-lost-answer";
            registry.addHealthFault(new HealthFault(id, 1, 2, "disk failing", "test", 0));
            byte[] name = id.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            proxy.cutAfterNextRequest(request -> contains(request, MULTI_DELETE) && contains(request, name));
            assertThat(registry.removeHealthFault(id)).as("this call removed it; only the answer was lost").isTrue();
            assertThat(proxy.cuts()).as("the delete's answer was cut").isEqualTo(1);
            assertThat(registry.healthFaults()).extracting(HealthFault::id).doesNotContain(id);
            assertThat(registry.removeHealthFault(id)).as("gone").isFalse();
            assertThat(registry.removeHealthFault("never-added")).isFalse();
        }
    }

    @Test
    void aBatchRefusedBeforeSendingIsNotOutcomeUnknown() throws Exception {
        String chroot = ZkTestSupport.freshChroot("ambiguous-unsent");
        try (CuttingProxy proxy = new CuttingProxy(server.getPort());
             ZooKeeperRegistry registry = ZkTestSupport.open(proxy.connectString(), chroot,
                     ZkTestSupport.options("failoverTimeout", "1000ms", "sessionTimeout", "4000ms", "connectionTimeout", "1000ms"))) {
            proxy.refuse(true);
            assertThatThrownBy(() -> registry.commit(WriteBatch.builder().setValue(KEY, "n", RegistryValue.qword(0)).build()))
                    .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                    .hasMessageContaining("failover timeout of 1000 ms");
            proxy.refuse(false);
            await().atMost(Duration.ofSeconds(15)).ignoreExceptionsInstanceOf(RegistryUnavailableException.class)
                    .untilAsserted(() -> assertThat(registry.keyExists(KEY)).isFalse());
            assertThat(List.of(fences(chroot))).containsExactly(0L);
        }
    }
}
