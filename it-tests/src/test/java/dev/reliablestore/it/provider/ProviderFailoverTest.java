package dev.reliablestore.it.provider;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.it.zookeeper.ZooKeeperEnsemble;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * High availability at the provider level on a real three-server ZooKeeper ensemble of separate JVMs
 * ({@link ZooKeeperEnsemble}), servers killed with SIGKILL: the leader under optimistic
 * read-modify-write load, then two of three servers.
 */
class ProviderFailoverTest {

    /** The failover timeout the stores (and their registries) are configured with: the bound asserted below. */
    private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(8);
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);

    @TempDir
    Path dir;
    private ZooKeeperEnsemble ensemble;
    private final List<StoreFactory> factories = new ArrayList<>();

    @BeforeEach
    void startEnsemble() throws Exception {
        ensemble = new ZooKeeperEnsemble(dir.resolve("zk"), 3, 500);
        ensemble.startAll();
        ensemble.awaitQuorum(Duration.ofSeconds(30));
    }

    @AfterEach
    void stopEverything() {
        for (StoreFactory f : factories) {
            try {
                f.close();
            } catch (RuntimeException ignored) {
                // best effort: the ensemble may be gone
            }
        }
        ensemble.close();
    }

    private StoreFactory open(String connectString, String chroot, String nodeName) {
        StoreFactory f = ClusterPersistenceProvider.open(HaFixture.config(connectString, chroot, nodeName, FAILOVER_TIMEOUT, SESSION_TIMEOUT)
                .build());
        factories.add(f);
        return f;
    }

    // ---- leader kill under load ------------------------------------------------------------------

    @Test
    void killingTheLeaderUnderWriteLoadLosesNoAcknowledgedIncrementAndWritesResumeWithinTheFailoverTimeout() throws Exception {
        StoreFactory a = open(ensemble.connectString(), "/provider-failover", "store-a");
        StoreFactory b = open(ensemble.connectString(), "/provider-failover", "store-b");
        String[] ids = {"tally-0", "tally-1", "tally-2", "tally-3", "tally-4", "tally-5", "tally-6", "tally-7"};
        EntityStore<Tally> setup = a.store(Tally.class);
        for (String id : ids) {
            assertThat(setup.save(id, Tally.empty(), Versioned.ABSENT)).isEqualTo(1);
        }
        int threads = 16; // many writes in flight per registry when the leader dies: each outcome settled once
        List<OptimisticIncrements.Writer> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            writers.add(new OptimisticIncrements.Writer("w" + t, (t % 2 == 0 ? a : b).store(Tally.class), ids.length));
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean giveUp = new AtomicBoolean();
        AtomicLong killedAt = new AtomicLong();
        AtomicLong firstAckAfterKill = new AtomicLong();
        List<String> violations = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        int leader;
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (OptimisticIncrements.Writer w : writers) {
                futures.add(pool.submit(() -> {
                    int i = Integer.parseInt(w.name.substring(1));
                    while (running.get()) {
                        OptimisticIncrements.increment(w, ids, i++ % ids.length, killedAt, firstAckAfterKill, giveUp, violations);
                    }
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> total(writers) >= 100);
            leader = ensemble.leader();
            assertThat(leader).as("a leader to kill").isGreaterThanOrEqualTo(0);
            long before = total(writers);
            killedAt.set(System.nanoTime()); // before the kill: only increments asked for after it count as resumed
            ensemble.kill(leader);
            await().atMost(FAILOVER_TIMEOUT.multipliedBy(3)).until(() -> firstAckAfterKill.get() != 0);
            long resumeMillis = TimeUnit.NANOSECONDS.toMillis(firstAckAfterKill.get() - killedAt.get());
            // every writer, on both stores, makes progress again
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(writers.stream().allMatch(w -> w.ackedAfterKill.get() >= 10))
                    .as("every writer acknowledged 10 increments after the kill; per writer (acked after kill / conflicts / unavailable): %s",
                            writers.stream().map(w -> w.name + "=" + w.ackedAfterKill.get() + "/" + w.conflicts.get() + "/" + w.unavailable.get()).toList())
                    .isTrue());
            running.set(false);
            giveUp.set(true);
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            long unavailable = writers.stream().mapToLong(w -> w.unavailable.get()).sum();
            long applied = writers.stream().mapToLong(w -> w.unknownButApplied.get()).sum();
            long notApplied = writers.stream().mapToLong(w -> w.unknownNotApplied.get()).sum();
            long conflicts = writers.stream().mapToLong(w -> w.conflicts.get()).sum();
            System.out.printf("provider: ZooKeeper leader (server %d) SIGKILLed under load after %d acknowledged increments: writes resumed after"
                            + " %d ms (failoverTimeout %d ms); %d acknowledged in all, %d conflicts retried, %d StoreUnavailable"
                            + " (%d had landed, %d had not, settled by reading)%n", leader + 1, before, resumeMillis,
                    FAILOVER_TIMEOUT.toMillis(), total(writers), conflicts, unavailable, applied, notApplied);
            assertThat(violations).isEmpty();
            assertThat(resumeMillis).as("time to resume writes after the leader's SIGKILL").isLessThan(FAILOVER_TIMEOUT.toMillis());

            // zero acknowledged increments lost, none applied twice, none applied unacknowledged: as read by both stores
            for (EntityStore<Tally> reader : List.of(a.store(Tally.class), b.store(Tally.class))) {
                for (int e = 0; e < ids.length; e++) {
                    Versioned<Tally> end = reader.get(ids[e]).orElseThrow();
                    long acknowledged = 0;
                    for (OptimisticIncrements.Writer w : writers) {
                        assertThat(end.value().of(w.name)).as("%s's increments of %s", w.name, ids[e]).isEqualTo(w.acked.get(e));
                        acknowledged += w.acked.get(e);
                    }
                    assertThat(end.version()).as("version of %s = 1 + its acknowledged increments", ids[e]).isEqualTo(1 + acknowledged);
                }
            }
        } finally {
            running.set(false);
            giveUp.set(true);
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
        // the killed server rejoins and serves everything acknowledged
        ensemble.start(leader);
        ensemble.awaitQuorum(Duration.ofSeconds(30));
        StoreFactory rejoined = open("127.0.0.1:" + ensemble.clientPort(leader), "/provider-failover", "reader-on-rejoined");
        EntityStore<Tally> onRejoined = rejoined.store(Tally.class);
        for (int e = 0; e < ids.length; e++) {
            long acknowledged = 0;
            for (OptimisticIncrements.Writer w : writers) {
                acknowledged += w.acked.get(e);
            }
            long expected = 1 + acknowledged;
            String id = ids[e];
            await().atMost(Duration.ofSeconds(10)).until(() -> onRejoined.get(id).orElseThrow().version() == expected);
        }
    }

    private static long total(List<OptimisticIncrements.Writer> writers) {
        long n = 0;
        for (OptimisticIncrements.Writer w : writers) {
            for (int e = 0; e < w.acked.length(); e++) {
                n += w.acked.get(e);
            }
        }
        return n;
    }

    // ---- loss of quorum ----------------------------------------------------------------------------

    private static final Pattern WAITED = Pattern.compile("over (\\d+) ms");

    @Test
    void losingQuorumFailsSavesAfterTheFailoverTimeoutHalfAppliesNothingAndKeepsEverythingAcknowledged() throws Exception {
        StoreFactory f = open(ensemble.connectString(), "/provider-quorum", "quorum-store");
        EntityStore<Note> notes = f.store(Note.class);
        Map<String, Long> acknowledged = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            acknowledged.put("note-" + i, notes.save("note-" + i, new Note("before the outage", i)));
        }
        Map<String, Note> firstBatch = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            firstBatch.put("batch-before-" + i, new Note("batch before", i));
        }
        notes.saveBatch(firstBatch);

        int leader = ensemble.leader();
        int follower = (leader + 1) % 3;
        ensemble.kill(leader);
        ensemble.kill(follower);

        Map<String, Note> outageBatch = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            outageBatch.put("batch-during-" + i, new Note("batch during", i));
        }
        // the batch beside the save, not after it: each is bounded by the failover timeout on its own
        long[] batchFailedAfterMs = new long[1];
        java.util.concurrent.CompletableFuture<String> batchFailure = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long t1 = System.nanoTime();
            String message = failureMessage(() -> notes.saveBatch(outageBatch));
            batchFailedAfterMs[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
            return message;
        });
        long t0 = System.nanoTime();
        String saveMessage = failureMessage(() -> notes.save("during", new Note("during the outage", 1)));
        long saveFailedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(saveMessage).contains("failoverTimeout=" + FAILOVER_TIMEOUT);
        long reported = waited(saveMessage);

        String batchMessage = batchFailure.get(FAILOVER_TIMEOUT.toMillis() * 3, TimeUnit.MILLISECONDS);
        long batchFailedAfter = batchFailedAfterMs[0]; // written before the future completed: get() makes it visible
        System.out.printf("provider: 2 of 3 ZooKeeper servers SIGKILLed: save failed after %d ms, saveBatch after %d ms"
                        + " (failoverTimeout %d ms); the store said: %s%n", saveFailedAfter, batchFailedAfter,
                FAILOVER_TIMEOUT.toMillis(), saveMessage);
        // the error says how long it waited: the failover timeout (the registry call that found no quorum
        // is bounded by it too), plus what one call in flight and scheduling on a loaded 2-core machine add
        long slack = 2_000;
        assertThat(reported).isLessThan(FAILOVER_TIMEOUT.toMillis() + slack);
        assertThat(waited(batchMessage)).isLessThan(FAILOVER_TIMEOUT.toMillis() + slack);
        assertThat(saveFailedAfter).isLessThan(FAILOVER_TIMEOUT.toMillis() + slack);
        // and it kept trying for the failover timeout instead of giving up at the first refusal
        assertThat(reported).isGreaterThan(FAILOVER_TIMEOUT.toMillis() - 1_000);
        assertThat(batchFailedAfter).isLessThan(FAILOVER_TIMEOUT.toMillis() + slack);

        ensemble.start(leader);
        ensemble.start(follower);
        ensemble.awaitQuorum(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(StoreUnavailableException.class)
                .until(() -> notes.count() >= 25);
        // everything acknowledged before the outage is there, at the acknowledged version
        for (Map.Entry<String, Long> e : acknowledged.entrySet()) {
            Versioned<Note> v = notes.get(e.getKey()).orElseThrow();
            assertThat(v.version()).isEqualTo(e.getValue());
            assertThat(v.value().text()).isEqualTo("before the outage");
        }
        assertThat(notes.getMany(firstBatch.keySet())).hasSize(5);
        // the batch refused during the outage is all or nothing (its outcome may be unknown, never half)
        Map<String, Versioned<Note>> during = notes.getMany(outageBatch.keySet());
        assertThat(during.size()).as("entities of the refused batch present after the outage").isIn(0, 5);
        Optional<Versioned<Note>> late = notes.get("during");
        late.ifPresent(n -> assertThat(n.version()).isEqualTo(1));
        // and writes work again
        assertThat(notes.save("after", new Note("after the outage", 1))).isEqualTo(1);
    }

    private static String failureMessage(Runnable call) {
        try {
            call.run();
        } catch (StoreUnavailableException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected StoreUnavailableException while the ensemble has no quorum");
    }

    private static long waited(String message) {
        Matcher m = WAITED.matcher(message);
        assertThat(m.find()).as("the message says how long it waited: %s", message).isTrue();
        return Long.parseLong(m.group(1));
    }
}
