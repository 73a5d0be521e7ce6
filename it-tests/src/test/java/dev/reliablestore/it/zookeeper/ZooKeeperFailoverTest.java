package dev.reliablestore.it.zookeeper;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.zookeeper.CuttingProxy;
import dev.reliablestore.registry.zookeeper.ZooKeeperRegistryBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * High availability of the ZooKeeper registry on a real three-server ensemble of separate JVMs,
 * with servers killed by SIGKILL.
 */
class ZooKeeperFailoverTest {

    /** The failover timeout the registry is configured with, and the bound the tests assert. */
    private static final long FAILOVER_TIMEOUT_MS = 8_000;

    @TempDir
    static Path dir;
    /** One ensemble for the class: every test restarts the servers it kills, and each works in a chroot of its own. */
    private static ZooKeeperEnsemble ensemble;
    private final List<ClusterRegistry> registries = new ArrayList<>();

    @BeforeAll
    static void startEnsemble() throws Exception {
        ensemble = new ZooKeeperEnsemble(dir, 3, 500);
        ensemble.startAll();
        ensemble.awaitQuorum(Duration.ofSeconds(30));
    }

    @BeforeEach
    void wholeEnsemble() throws Exception {
        ensemble.restoreAll(Duration.ofSeconds(30));
    }

    @AfterEach
    void closeRegistries() {
        for (ClusterRegistry r : registries) {
            try {
                r.close();
            } catch (RuntimeException ignored) {
                // best effort
            }
        }
    }

    @AfterAll
    static void stopEnsemble() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    private ClusterRegistry open(String connectString, String chroot, String... keyValues) {
        Map<String, String> options = new HashMap<>();
        options.put("failoverTimeout", String.valueOf(FAILOVER_TIMEOUT_MS));
        options.put("sessionTimeout", "4000");
        options.put("connectionTimeout", "3000");
        options.put("feedRetention", "60000");
        options.put("acl", "open"); // failover, not protection, is tested here (ZooKeeperAclTest does that)
        for (int i = 0; i < keyValues.length; i += 2) {
            options.put(keyValues[i], keyValues[i + 1]);
        }
        ClusterRegistry r = new ZooKeeperRegistryBackend().open(URI.create("zookeeper://" + connectString + chroot), options);
        registries.add(r);
        return r;
    }

    private static final RegistryPath COUNTERS = RegistryPath.of("counters");

    /** One conditional increment: read, then commit with the read revision as condition. Retries conflicts only. */
    private static void increment(ClusterRegistry r, String counter) {
        while (true) {
            VersionedValue v = r.getValue(COUNTERS, counter).orElseThrow();
            try {
                r.commit(WriteBatch.builder().requireRevision(COUNTERS, counter, v.revision())
                        .setValue(COUNTERS, counter, RegistryValue.qword(v.value().asQword() + 1)).build());
                return;
            } catch (ConditionFailedException conflict) {
                // another writer won: read again
            }
        }
    }

    @Test
    void killingTheLeaderUnderWriteLoadLosesNoAcknowledgedWriteAndWritesResume() throws Exception {
        ClusterRegistry a = open(ensemble.connectString(), "/failover", "nodeName", "writer-a");
        ClusterRegistry b = open(ensemble.connectString(), "/failover", "nodeName", "writer-b");
        int writers = 4;
        String[] counters = {"c0", "c1"};
        WriteBatch.Builder init = WriteBatch.builder();
        for (String c : counters) {
            init.setValue(COUNTERS, c, RegistryValue.qword(0));
        }
        a.commit(init.build());

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong killedAtNanos = new AtomicLong();
        AtomicLong firstAckAfterKill = new AtomicLong();
        // written by the writers, polled by the test thread: atomic, so a wait never reads a stale count
        AtomicLongArray[] acks = new AtomicLongArray[writers];
        for (int t = 0; t < writers; t++) {
            acks[t] = new AtomicLongArray(counters.length);
        }
        AtomicLongArray acksAfterKill = new AtomicLongArray(writers);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < writers; t++) {
                int id = t;
                ClusterRegistry r = t % 2 == 0 ? a : b;
                futures.add(pool.submit(() -> {
                    int i = 0;
                    while (running.get()) {
                        int c = (id + i++) % counters.length;
                        long invoked = System.nanoTime();
                        try {
                            increment(r, counters[c]);
                        } catch (RegistryUnavailableException e) {
                            // not acknowledged; with outcomeUnknown the test could not count it: fail loudly
                            if (e.outcomeUnknown()) {
                                failures.add(e);
                            }
                            continue;
                        }
                        acks[id].incrementAndGet(c);
                        long killed = killedAtNanos.get();
                        // resumed: an increment asked for after the kill began (one the old leader answered before it died is not)
                        if (killed != 0 && invoked - killed > 0) {
                            firstAckAfterKill.compareAndSet(0, System.nanoTime());
                            acksAfterKill.incrementAndGet(id);
                        }
                    }
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> sum(acks) >= 100);
            int leader = ensemble.leader();
            assertThat(leader).as("a leader to kill").isGreaterThanOrEqualTo(0);
            killedAtNanos.set(System.nanoTime());
            ensemble.kill(leader);
            await().atMost(Duration.ofMillis(FAILOVER_TIMEOUT_MS * 2)).until(() -> firstAckAfterKill.get() != 0);
            long resumeMillis = TimeUnit.NANOSECONDS.toMillis(firstAckAfterKill.get() - killedAtNanos.get());
            System.out.printf("ZooKeeper leader (server %d) SIGKILLed under write load: writes resumed after %d ms (failover timeout %d ms)%n",
                    leader + 1, resumeMillis, FAILOVER_TIMEOUT_MS);
            // every writer makes progress again
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (int t = 0; t < writers; t++) {
                    if (acksAfterKill.get(t) < 10) {
                        return false;
                    }
                }
                return true;
            });
            running.set(false);
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(resumeMillis).isLessThan(FAILOVER_TIMEOUT_MS);
            assertThat(failures).as("commits whose outcome stayed unknown").isEmpty();
            for (int c = 0; c < counters.length; c++) {
                long acknowledged = 0;
                for (AtomicLongArray w : acks) {
                    acknowledged += w.get(c);
                }
                assertThat(a.getValue(COUNTERS, counters[c]).orElseThrow().value().asQword())
                        .as("counter %s equals its acknowledged increments", counters[c]).isEqualTo(acknowledged);
                assertThat(b.getValue(COUNTERS, counters[c]).orElseThrow().value().asQword()).isEqualTo(acknowledged);
            }
            // the killed server rejoins and has everything
            ensemble.start(leader);
            ensemble.awaitQuorum(Duration.ofSeconds(30));
        } finally {
            running.set(false);
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static long sum(AtomicLongArray[] acks) {
        long s = 0;
        for (AtomicLongArray w : acks) {
            for (int i = 0; i < w.length(); i++) {
                s += w.get(i);
            }
        }
        return s;
    }

    @Test
    void losingQuorumFailsWritesWithinTheFailoverTimeoutAndKeepsEverythingAcknowledged() throws Exception {
        ClusterRegistry r = open(ensemble.connectString(), "/quorum", "nodeName", "q");
        List<Long> acknowledged = new ArrayList<>();
        for (long i = 0; i < 20; i++) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("pairs", "p" + i), "left", RegistryValue.qword(i))
                    .setValue(RegistryPath.of("pairs", "p" + i), "right", RegistryValue.qword(i)).build());
            acknowledged.add(i);
        }
        int leader = ensemble.leader();
        int follower = (leader + 1) % 3;
        ensemble.kill(leader);
        ensemble.kill(follower);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(RegistryPath.of("pairs", "late"), "left", RegistryValue.qword(99))
                .setValue(RegistryPath.of("pairs", "late"), "right", RegistryValue.qword(99)).build()))
                .isInstanceOf(RegistryUnavailableException.class).hasMessageContaining("failover timeout");
        long failedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("with 2 of 3 ZooKeeper servers SIGKILLed the write failed after %d ms (failover timeout %d ms)%n", failedAfter, FAILOVER_TIMEOUT_MS);
        // the failover timeout bounds the wait; a little scheduling slack on a loaded machine
        assertThat(failedAfter).isLessThan(FAILOVER_TIMEOUT_MS + 2_000);
        ensemble.start(leader);
        ensemble.start(follower);
        ensemble.awaitQuorum(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(RegistryUnavailableException.class)
                .until(() -> r.keyExists(RegistryPath.of("pairs")));
        for (long i : acknowledged) {
            RegistryPath p = RegistryPath.of("pairs", "p" + i);
            assertThat(r.getValue(p, "left").orElseThrow().value().asQword()).isEqualTo(i);
            assertThat(r.getValue(p, "right").orElseThrow().value().asQword()).isEqualTo(i);
        }
        // the refused batch is all or nothing
        RegistryPath late = RegistryPath.of("pairs", "late");
        assertThat(r.getValue(late, "left").isPresent()).isEqualTo(r.getValue(late, "right").isPresent());
        // and writes work again
        r.commit(WriteBatch.builder().setValue(RegistryPath.of("pairs", "after"), "v", RegistryValue.qword(1)).build());
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void aClientSessionThatExpiresResynchronisesItsWatchesAndCarriesOn() throws Exception {
        try (CuttingProxy proxy = new CuttingProxy(ensemble.clientPort(0))) {
            ClusterRegistry r = open(proxy.connectString(), "/expiry", "nodeName", "expiring", "sessionTimeout", "3000");
            ClusterRegistry other = open(ensemble.connectString(), "/expiry", "nodeName", "other");
            List<ChangeBatch> batches = new CopyOnWriteArrayList<>();
            List<String> resyncs = new CopyOnWriteArrayList<>();
            try (Watch w = r.watch(RegistryPath.root(), new ChangeListener() {
                @Override
                public void onBatch(ChangeBatch batch) {
                    batches.add(batch);
                }

                @Override
                public void onResync(String reason) {
                    resyncs.add(reason);
                }
            })) {
                long s1 = other.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build()).sequence();
                await().atMost(Duration.ofSeconds(10)).until(() -> batches.stream().anyMatch(b -> b.sequence() == s1));
                // cut the client off for longer than its session: the ensemble expires the session
                proxy.refuse(true);
                await().atMost(Duration.ofSeconds(20)).until(() -> !other.status().nodes().stream()
                        .filter(n -> n.name().equals("expiring")).anyMatch(n -> n.state() == dev.reliablestore.registry.NodeState.UP));
                long missed = other.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(2)).build()).sequence();
                proxy.refuse(false);
                await().atMost(Duration.ofSeconds(20)).until(() -> !resyncs.isEmpty());
                System.out.println("after the session expiry the watch was told: " + resyncs.get(0));
                assertThat(batches).noneMatch(b -> b.sequence() == missed);
                // no stale read afterwards, and the feed carries on
                assertThat(r.getValue(RegistryPath.of("k"), "v").orElseThrow().value().asDword()).isEqualTo(2);
                long s3 = other.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(3)).build()).sequence();
                await().atMost(Duration.ofSeconds(10)).until(() -> batches.stream().anyMatch(b -> b.sequence() == s3));
                await().atMost(Duration.ofSeconds(10)).until(() -> other.status().liveNodes() == 2);
            }
        }
    }
}
