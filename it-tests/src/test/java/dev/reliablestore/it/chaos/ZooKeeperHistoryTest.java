package dev.reliablestore.it.chaos;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.it.history.LinearizabilityChecker;
import dev.reliablestore.it.history.LinearizabilityChecker.ReadModel;
import dev.reliablestore.it.history.Op;
import dev.reliablestore.it.history.Register;
import dev.reliablestore.it.history.RegisterClient;
import dev.reliablestore.it.history.Workload;
import dev.reliablestore.it.zookeeper.ZooKeeperEnsemble;
import dev.reliablestore.registry.zookeeper.CuttingProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fault scenarios of issue 18 on a three-server ZooKeeper ensemble of separate JVMs
 * ({@link ZooKeeperEnsemble}), with the provider's default retries ({@code maxRetries} 3 from a 1 s
 * {@code retryDelay}) inside an 8 s {@code failoverTimeout}, a 4 s session timeout and a 500 ms tick.
 *
 * <p>Two workloads run at once through every fault, each of four clients with a factory (a ZooKeeper
 * session) and a store of their own, on three keys (a fresh set every fault cycle):
 * <ul>
 *   <li>cache off — writes linearizable, observations under {@link ReadModel#SESSION}: ZooKeeper reads
 *       are served by the session's server, never older than what the session wrote or saw (FIFO
 *       sessions; a client never reconnects to a server behind what it has seen), possibly behind
 *       other sessions' writes (no {@code sync()});</li>
 *   <li>cache on — writes linearizable, observations under {@link ReadModel#SESSION} too: the factory's
 *       cache holds what its session wrote and read (version reads included), and a read older than
 *       what it holds never fills it.</li>
 * </ul>
 * The leader-kill scenario runs a third workload: cache off with {@code readConsistency=linearizable},
 * every operation checked under {@link ReadModel#LINEARIZABLE}. The cached-reader scenario (5) runs
 * neither: one writer and one cached reader of its own, on different servers.
 * Each scenario prints its figures (operations, anomalies, longest write gap, failed and unknown
 * operations) and checks both histories; {@code -Dreliablestore.chaos.minutes=N} repeats the fault
 * cycle for N minutes.
 */
class ZooKeeperHistoryTest {

    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(8);
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);
    private static final int CLIENTS = 4;
    private static final int KEYS = 3;
    /**
     * Acknowledged writes per workload before a fault, and after it before the next step: at about three operations per
     * acknowledged write, some 180 operations of each workload before each fault and 180 after it, on the cycle's keys.
     */
    private static final int WRITES_BEFORE = 60;
    private static final int WRITES_AFTER = 60;

    @TempDir
    static Path dir;
    /**
     * One ensemble for the class (starting one was seconds of every scenario): each scenario restarts the servers
     * it stops, works in chroots of its own and closes its sessions, so the next one finds a whole, idle ensemble.
     */
    private static ZooKeeperEnsemble ensemble;
    /** Concurrent: {@link #openPerClient} opens a workload's factories side by side. */
    private final List<StoreFactory> factories = new CopyOnWriteArrayList<>();
    private final List<Workload> workloads = new ArrayList<>();
    /** The workload with readConsistency=linearizable, when the scenario runs one. */
    private Workload linearizable;
    /** Proxies between clients and servers, closed after the factories that use them. */
    private final List<CuttingProxy> proxies = new ArrayList<>();

    @BeforeAll
    static void startEnsemble() throws Exception {
        ensemble = new ZooKeeperEnsemble(dir.resolve("zk"), 3, 500);
        ensemble.startAll();
        ensemble.awaitQuorum(Duration.ofSeconds(30));
    }

    /** A scenario that failed with a server down must not fail the next ones too. */
    @BeforeEach
    void wholeEnsemble() throws Exception {
        ensemble.restoreAll(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopEnsemble() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Workload w : workloads) {
            w.close();
        }
        // side by side: each close ends a ZooKeeper session, and a scenario has up to twelve
        ExecutorService closing = Executors.newFixedThreadPool(Math.max(1, factories.size()));
        for (StoreFactory f : factories) {
            closing.execute(() -> {
                try {
                    f.close();
                } catch (RuntimeException ignored) {
                    // best effort: the ensemble may be gone
                }
            });
        }
        closing.shutdown();
        closing.awaitTermination(60, TimeUnit.SECONDS);
        for (CuttingProxy p : proxies) {
            try {
                p.close();
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private StoreFactory open(String servers, String chroot, boolean cache, String nodeName, String readConsistency) {
        StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName("zookeeper://" + servers + chroot)
                .resourceGroupName("History-RG")
                .registryKeyPath("Software/ReliableStore/History")
                .failoverTimeout(FAILOVER_TIMEOUT)
                .enableLocalCache(cache)
                .registryOption("failoverTimeout", String.valueOf(FAILOVER_TIMEOUT.toMillis()))
                .registryOption("sessionTimeout", String.valueOf(SESSION_TIMEOUT.toMillis()))
                .registryOption("connectionTimeout", "3000")
                .registryOption("nodeName", nodeName)
                .registryOption("acl", "open")
                .registryOption("readConsistency", readConsistency)
                .build());
        factories.add(f);
        return f;
    }

    /** Which servers a client of a workload connects to (every server, unless a scenario says otherwise). */
    private interface Servers {
        String of(boolean cache, int client);
    }

    /** The two workloads (cache off, cache on), each on a chroot of its own, started. */
    private void startWorkloads(String scenario) {
        startWorkloads(scenario, false, (cache, client) -> ensemble.connectString());
    }

    /**
     * As {@link #startWorkloads(String)}, each client on the {@code servers} given, and with
     * {@code linearizableReads} a third workload: cache off, {@code readConsistency=linearizable}, whose
     * history is checked as {@link ReadModel#LINEARIZABLE}.
     */
    private void startWorkloads(String scenario, boolean linearizableReads, Servers servers) {
        // lower case first: "rolling-SIGKILL-restart" shared "rolling restart"'s chroots, and so its keys on the class's ensemble
        String root = "/" + scenario.toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
        if (linearizableReads) {
            Workload w = new Workload(scenario + " linearizable reads", scenario.hashCode() + 2);
            String chroot = root + "-linearizable";
            for (StoreFactory f : openPerClient(c -> open(ensemble.connectString(), chroot, false, "linearizable-" + c, "linearizable"))) {
                w.client(f.store(Register.class), Chaos.keys(0, 0, KEYS), RegisterClient.Mix.DEFAULT);
            }
            linearizable = w;
        }
        for (boolean cache : new boolean[] {false, true}) {
            String name = scenario + (cache ? " cache on" : " cache off");
            Workload w = new Workload(name, scenario.hashCode() + (cache ? 1 : 0));
            String chroot = root + (cache ? "-cached" : "-uncached");
            List<String> connect = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                connect.add(servers.of(cache, c)); // here, not in openPerClient's threads: it may add a proxy
            }
            for (StoreFactory f : openPerClient(c -> open(connect.get(c), chroot, cache, (cache ? "cached-" : "uncached-") + c, "snapshot"))) {
                w.client(f.store(Register.class), Chaos.keys(0, 0, KEYS), RegisterClient.Mix.DEFAULT);
            }
            workloads.add(w);
        }
        if (linearizable != null) {
            workloads.add(linearizable);
        }
        workloads.forEach(Workload::start);
    }

    /**
     * A factory per client, in client order, opened side by side: each is a ZooKeeper session and a few round trips,
     * which one after the other took seconds of every scenario.
     */
    private static List<StoreFactory> openPerClient(IntFunction<StoreFactory> open) {
        ExecutorService opening = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<CompletableFuture<StoreFactory>> opened = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                opened.add(CompletableFuture.supplyAsync(() -> open.apply(client), opening));
            }
            return opened.stream().map(CompletableFuture::join).toList();
        } finally {
            opening.shutdown();
        }
    }

    /** Waits until every workload has acknowledged {@code writes} more writes. */
    private void awaitProgress(int writes, Duration atMost) {
        awaitProgress(workloads, writes, atMost);
    }

    private static void awaitProgress(List<Workload> running, int writes, Duration atMost) {
        long[] targets = running.stream().mapToLong(w -> w.acknowledged() + writes).toArray();
        await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (int i = 0; i < targets.length; i++) {
                if (running.get(i).acknowledged() < targets[i]) {
                    return false;
                }
            }
            return true;
        });
    }

    private void nextKeys(int epoch) {
        for (Workload w : workloads) {
            w.keys(i -> Chaos.keys(0, epoch, KEYS));
        }
    }

    /** Stops the clients, checks both histories, prints the figures; returns them (cache off, cache on). */
    private List<Workload.Figures> stopAndCheck(String scenario) throws Exception {
        for (Workload w : workloads) {
            w.stop();
        }
        List<Workload.Figures> figures = new ArrayList<>();
        for (int i = 0; i < workloads.size(); i++) {
            boolean promised = workloads.get(i) == linearizable;
            Workload.Figures f = workloads.get(i).check(new LinearizabilityChecker(promised ? ReadModel.LINEARIZABLE : ReadModel.SESSION));
            System.out.println(f);
            if (!workloads.get(i).firstErrors().isEmpty()) {
                System.out.println("[history] " + scenario + ": first errors " + workloads.get(i).firstErrors());
            }
            figures.add(f);
            if (promised) {
                continue;
            }
            // for the record: what the stronger model says of the same history (not asserted: not promised)
            LinearizabilityChecker.Result r = new LinearizabilityChecker(ReadModel.LINEARIZABLE, 300_000).check(workloads.get(i).history());
            System.out.println("[history]   the same history checked as LINEARIZABLE (not promised): " + r.verdict()
                    + ", " + r.anomalies() + " of " + r.keys().size() + " keys not consistent with it");
            if (i == 0) { // cache off: show where ZooKeeper's plain reads were not linearizable
                r.keys().stream().filter(k -> k.verdict() == LinearizabilityChecker.Verdict.VIOLATION).findFirst()
                        .ifPresent(k -> System.out.println("[history]   first such key, " + k.key() + ":\n" + k.excerpt()));
            }
        }
        for (Workload.Figures f : figures) {
            assertThat(f.check().ok()).as(f.check().describe()).isTrue();
            assertThat(f.unexpectedErrors()).as("errors other than the API's: %s", f).isZero();
        }
        return figures;
    }

    // ---- (1) leader SIGKILL and restart, repeated ---------------------------------------------------

    @Test
    void killingTheLeaderRepeatedlyKeepsEveryHistoryConsistent() throws Exception {
        startWorkloads("leader-kill", true, (cache, client) -> ensemble.connectString());
        long start = System.nanoTime();
        int cycles = 0;
        do {
            awaitProgress(WRITES_BEFORE, Duration.ofSeconds(60));
            int leader = ensemble.leader();
            assertThat(leader).as("a leader to kill").isGreaterThanOrEqualTo(0);
            ensemble.kill(leader);
            awaitProgress(WRITES_AFTER, FAILOVER_TIMEOUT.multipliedBy(4));
            ensemble.start(leader);
            ensemble.awaitQuorum(Duration.ofSeconds(30));
            nextKeys(++cycles);
        } while (cycles < 2 || Chaos.anotherCycle(start));
        awaitProgress(WRITES_AFTER, Duration.ofSeconds(60));
        System.out.println("[history] leader SIGKILL: " + cycles + " kill/restart cycles");
        stopAndCheck("leader SIGKILL");
    }

    // ---- (2) rolling restart: graceful, and SIGKILL ---------------------------------------------------

    /** Every server stopped (SIGTERM) or killed (SIGKILL) and restarted in turn under load; returns the figures. */
    private List<Workload.Figures> rollingRestart(String scenario, boolean kill) throws Exception {
        startWorkloads(scenario.replace(' ', '-'));
        long start = System.nanoTime();
        int rounds = 0;
        do {
            for (int i = 0; i < ensemble.size(); i++) {
                awaitProgress(WRITES_BEFORE, Duration.ofSeconds(60));
                if (kill) {
                    ensemble.kill(i);
                } else {
                    ensemble.stop(i);
                }
                awaitProgress(WRITES_AFTER, FAILOVER_TIMEOUT.multipliedBy(4));
                ensemble.start(i);
                ensemble.awaitQuorum(Duration.ofSeconds(30));
            }
            nextKeys(++rounds);
        } while (Chaos.anotherCycle(start));
        awaitProgress(WRITES_AFTER, Duration.ofSeconds(60));
        System.out.println("[history] " + scenario + ": " + rounds + " round(s) of " + ensemble.size()
                + (kill ? " SIGKILL" : " graceful") + " restarts");
        return stopAndCheck(scenario);
    }

    @Test
    void aGracefulRollingRestartFailsNoOperation() throws Exception {
        for (Workload.Figures f : rollingRestart("rolling restart", false)) {
            assertThat(f.failed() + f.unknown()).as("zero downtime: no client operation fails during a graceful rolling restart; %s", f)
                    .isZero();
        }
    }

    /** No zero-failure requirement here: a killed server's clients may see failures (reported); the histories must hold. */
    @Test
    void aSigkillRollingRestartKeepsEveryHistoryConsistent() throws Exception {
        rollingRestart("rolling SIGKILL restart", true);
    }

    // ---- (4) a server paused past the session timeout -------------------------------------------------

    @Test
    void pausingTheLeaderPastTheSessionTimeoutKeepsEveryHistoryConsistent() throws Exception {
        startWorkloads("leader-pause");
        long start = System.nanoTime();
        int cycles = 0;
        do {
            awaitProgress(WRITES_BEFORE, Duration.ofSeconds(60));
            int leader = ensemble.leader();
            assertThat(leader).as("a leader to pause").isGreaterThanOrEqualTo(0);
            ensemble.pause(leader);
            long pausedAt = System.nanoTime();
            try {
                // past the session timeout, and the others serving writes again
                awaitProgress(WRITES_AFTER, FAILOVER_TIMEOUT.multipliedBy(4));
                await().atMost(SESSION_TIMEOUT.multipliedBy(3)).pollInterval(Duration.ofMillis(100))
                        .until(() -> System.nanoTime() - pausedAt > SESSION_TIMEOUT.plusSeconds(1).toNanos());
            } finally {
                ensemble.resume(leader);
            }
            ensemble.awaitQuorum(Duration.ofSeconds(30));
            nextKeys(++cycles);
        } while (Chaos.anotherCycle(start));
        awaitProgress(WRITES_AFTER, Duration.ofSeconds(60));
        System.out.println("[history] leader SIGSTOP past the session timeout: " + cycles + " pause/continue cycle(s)");
        stopAndCheck("leader SIGSTOP");
    }

    // ---- (3) a client partitioned from its server past the session timeout ----------------------------

    /** The client of each workload that a proxy cuts off. */
    private static final int PARTITIONED = 0;

    private CuttingProxy proxyTo(int server) {
        try {
            CuttingProxy p = new CuttingProxy(ensemble.clientPort(server));
            proxies.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void partitioningAClientFromItsServerPastItsSessionKeepsEveryHistoryConsistent() throws Exception {
        // the cut-off clients reach one follower only, through a proxy each; the others reach the other two servers
        int leader = ensemble.leader();
        assertThat(leader).as("a leader").isGreaterThanOrEqualTo(0);
        int cutOffServer = (leader + 1) % ensemble.size();
        String otherServers = ensemble.connectString(leader, (leader + 2) % ensemble.size());
        startWorkloads("partition", false, (cache, client) -> client == PARTITIONED
                ? proxyTo(cutOffServer).connectString() : otherServers);
        long start = System.nanoTime();
        int cycles = 0;
        do {
            awaitProgress(WRITES_BEFORE, Duration.ofSeconds(60));
            proxies.forEach(p -> p.partition(true));
            try {
                // until the server has expired every session across the proxies (it closes their connections),
                // and the other clients are writing through the other servers all along
                await().atMost(SESSION_TIMEOUT.multipliedBy(4)).pollInterval(Duration.ofMillis(100))
                        .until(() -> proxies.stream().allMatch(CuttingProxy::serverClosedEveryConnectionAcrossPartition));
                awaitProgress(WRITES_AFTER, FAILOVER_TIMEOUT.multipliedBy(4));
            } finally {
                proxies.forEach(p -> p.partition(false));
            }
            // healed: each cut-off client gets a write acknowledged again (on a new session)
            long[] before = workloads.stream().mapToLong(w -> w.client(PARTITIONED).acknowledgedWrites()).toArray();
            await().atMost(FAILOVER_TIMEOUT.multipliedBy(4)).pollInterval(Duration.ofMillis(50)).until(() -> {
                for (int i = 0; i < before.length; i++) {
                    if (workloads.get(i).client(PARTITIONED).acknowledgedWrites() <= before[i]) {
                        return false;
                    }
                }
                return true;
            });
            nextKeys(++cycles);
        } while (Chaos.anotherCycle(start));
        awaitProgress(WRITES_AFTER, Duration.ofSeconds(60));
        System.out.println("[history] client partition: " + cycles + " partition(s) of client " + PARTITIONED
                + " of each workload from server " + (cutOffServer + 1) + " past its session timeout, then healed");
        stopAndCheck("client partition");
        for (Workload w : workloads) {
            long ops = w.history().ops().stream().filter(o -> o.client == PARTITIONED).count();
            System.out.println("[history]   " + w.name() + ", the cut-off client: " + ops + " operations, "
                    + w.client(PARTITIONED).acknowledgedWrites() + " acknowledged writes, longest write gap "
                    + w.longestWriteGapMillis(PARTITIONED) + " ms");
        }
    }

    // ---- (5) a cached reader on another server than the writer, across a failover of its server --------

    /** The writer's mix: writes mostly, and a few reads of its own. */
    private static final RegisterClient.Mix WRITES = new RegisterClient.Mix(40, 30, 5, 5);
    private static final RegisterClient.Mix READS_ONLY = new RegisterClient.Mix(0, 0, 0, 0);

    /**
     * One writer (cache off) on a follower and one cached reader on the leader, each with its own factory
     * and a connect string naming its server only. The leader is killed: the reader's session loses its
     * server while the writer goes on through the new leader, so the reader's change feed misses those
     * writes. The writer stops before the reader's server is back, so no later change can invalidate what
     * the reader holds: once its server is back, only the feed's resynchronisation can. Checked: the
     * history under {@link ReadModel#SESSION} (what docs/reliability.md promises a cached read across
     * factories), and that the reader's reads converge to what the writer reads, long before
     * {@code cacheTTL} (5 min) could expire a stale entry.
     */
    @Test
    void aCachedReaderOnAnotherServerConvergesAfterItsServerFailsOver() throws Exception {
        long start = System.nanoTime();
        int cycles = 0;
        do {
            // every cycle on the current leader: the reader's server, whose failure is a leader failover
            int readerServer = ensemble.leader();
            assertThat(readerServer).as("a leader").isGreaterThanOrEqualTo(0);
            int writerServer = (readerServer + 1) % ensemble.size();
            StoreFactory writerFactory = open(ensemble.connectString(writerServer), "/cached-reader", false, "writer-" + cycles, "snapshot");
            StoreFactory readerFactory = open(ensemble.connectString(readerServer), "/cached-reader", true, "reader-" + cycles, "snapshot");
            var writerStore = writerFactory.store(Register.class);
            var readerStore = readerFactory.store(Register.class);
            List<String> keys = Chaos.keys(0, cycles, KEYS);
            Workload w = new Workload("cached reader, cycle " + (cycles + 1), 5_000 + cycles);
            workloads.add(w); // closed after the test; the cycle checks it below
            RegisterClient writer = w.client(writerStore, keys, WRITES);
            RegisterClient reader = w.client(readerStore, keys, READS_ONLY).pauseBetweenOperations(Duration.ofMillis(1));
            w.start();
            awaitProgress(List.of(w), WRITES_BEFORE, Duration.ofSeconds(60));
            ensemble.kill(readerServer);
            awaitProgress(List.of(w), WRITES_AFTER, FAILOVER_TIMEOUT.multipliedBy(4));
            w.stop(writer);
            ensemble.start(readerServer);
            ensemble.awaitQuorum(Duration.ofSeconds(30));
            long back = System.nanoTime();
            w.stop();
            // sequential again (its loop stopped): the reader reads each key until it reads what the writer reads
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
                for (String k : keys) {
                    Op read = reader.read(k);
                    Op written = writer.read(k);
                    assertThat(read.outcome == Op.Outcome.OK && written.outcome == Op.Outcome.OK
                            && Objects.equals(read.value, written.value) && read.version == written.version)
                            .as("the cached reader reads what the writer reads: %s, %s", read, written).isTrue();
                }
            });
            long convergedMillis = (System.nanoTime() - back) / 1_000_000;
            Workload.Figures f = w.check(new LinearizabilityChecker(ReadModel.SESSION));
            System.out.println(f);
            System.out.println("[history]   reader against writer: " + w.staleness(writer.id(), reader.id())
                    + "; the reader read what the writer reads " + convergedMillis + " ms after its server was back; first errors "
                    + w.firstErrors());
            assertThat(f.check().ok()).as(f.check().describe()).isTrue();
            assertThat(f.unexpectedErrors()).as("errors other than the API's: %s", f).isZero();
            for (StoreFactory done : List.of(writerFactory, readerFactory)) {
                done.close();
                factories.remove(done);
            }
            cycles++;
        } while (Chaos.anotherCycle(start));
    }
}
