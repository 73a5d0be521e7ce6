package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.conformance.FeedRecorder;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What the conformance suite cannot see of the replayable change log: the horizon across reopening
 * and against a stale primary, a bucket collected while a replay lists it, a writer whose clock is
 * behind, and the junction moving up while a slow listener replays.
 */
@SuppressWarnings("try") // watches opened in try-with-resources only to be closed at the end
class ZooKeeperFeedHistoryTest {

    static {
        ZkTestSupport.init();
    }

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static long set(ZooKeeperRegistry r, String key, int v) {
        return r.commit(WriteBatch.builder().setValue(RegistryPath.parse(key), "v", RegistryValue.dword(v)).build()).sequence();
    }

    /** A registry whose connection goes through a proxy that can cut it, and another on the same chroot that connects directly. */
    private record Cuttable(CuttingProxy proxy, ZooKeeperRegistry registry, ZooKeeperRegistry other) implements AutoCloseable {
        static Cuttable open(String name) throws Exception {
            String chroot = ZkTestSupport.freshChroot(name);
            CuttingProxy proxy = new CuttingProxy(server.getPort());
            ZooKeeperRegistry registry = null;
            try {
                registry = ZkTestSupport.open(proxy.connectString(), chroot, ZkTestSupport.options());
                return new Cuttable(proxy, registry, ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options()));
            } catch (RuntimeException e) {
                if (registry != null) {
                    registry.close();
                }
                proxy.close();
                throw e;
            }
        }

        @Override
        public void close() throws Exception {
            try (proxy; registry; other) {
                // closed in reverse order: the direct registry, the one through the proxy, then the proxy
            }
        }
    }

    private static long farFuture() {
        return System.currentTimeMillis() + Duration.ofDays(2).toMillis();
    }

    @Test
    void theHorizonIsKeptAcrossReopeningNeverMovesBackAndTheHistoryAfterItReplays() throws Exception {
        String chroot = ZkTestSupport.freshChroot("horizon");
        long horizon;
        long after;
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            set(r, "a", 1);
            long dropped = set(r, "a", 2);
            assertThat(r.replayableAfter()).isZero();
            r.collectLogGarbage(farFuture());
            horizon = r.replayableAfter();
            assertThat(horizon).isGreaterThanOrEqualTo(dropped).isLessThanOrEqualTo(r.currentSequence());
            after = set(r, "a", 3);
        }
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            assertThat(r.replayableAfter()).as("horizon after reopening").isEqualTo(horizon);
            // a primary with an older view raises it to less: nothing changes
            r.history().raiseHorizon(r.curator().getZookeeperClient().getZooKeeper(), horizon - 1);
            assertThat(r.replayableAfter()).isEqualTo(horizon);
            try (ZooKeeperRegistry fresh = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
                // this instance's answer is the highest it ever read: only one that never saw the horizon shows the znode
                assertThat(fresh.replayableAfter()).as("the horizon in the znode, read by a fresh instance").isEqualTo(horizon);
            }
            FeedRecorder refused = new FeedRecorder();
            assertThatThrownBy(() -> r.watch(RegistryPath.root(), horizon - 1, refused))
                    .isInstanceOfSatisfying(FeedHistoryUnavailableException.class, e -> assertThat(e.replayableAfter()).isEqualTo(horizon))
                    .hasMessageContaining("feedRetention");
            FeedRecorder rec = new FeedRecorder();
            try (Watch w = r.watch(RegistryPath.root(), horizon, rec)) {
                await().atMost(WAIT).until(() -> rec.batches.size() >= 1);
                assertThat(rec.sequences()).containsExactly(after);
                assertThat(rec.batches.get(0).changes()).containsExactly(
                        new Change.ValueSet(RegistryPath.parse("a"), "v", new VersionedValue(RegistryValue.dword(3), after)));
            }
            assertThat(refused.batches).isEmpty();
        }
    }

    /** What a test does to the log while a replay is between its listing of the buckets and their stats. */
    private interface LogChange {
        void run() throws Exception;
    }

    private static void fiveBatchesThenOnceAfterTheBucketListing(ZooKeeperRegistry r, LogChange change) {
        for (int i = 0; i < 5; i++) {
            set(r, "k", i);
        }
        AtomicBoolean once = new AtomicBoolean();
        r.history().afterBucketListing = () -> {
            if (once.compareAndSet(false, true)) {
                try {
                    change.run();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    @Test
    void aBucketCollectedWhileAReplayListsItEndsTheReplayWithAResyncNeverASilentGap() throws Exception {
        String chroot = ZkTestSupport.freshChroot("vanishing");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            fiveBatchesThenOnceAfterTheBucketListing(r, () -> r.collectLogGarbage(farFuture()));
            FeedRecorder rec = new FeedRecorder();
            try (Watch w = r.watch(RegistryPath.root(), 0, rec)) {
                await().atMost(WAIT).until(() -> !rec.resyncs.isEmpty());
                assertThat(rec.resyncs.get(0)).contains("dropped", "feedRetention");
                assertThat(rec.batches).as("nothing of the history after the gap").isEmpty();
                long next = set(r, "k", 99);
                await().atMost(WAIT).until(() -> !rec.batches.isEmpty());
                assertThat(rec.sequences()).as("live again after the resync").containsExactly(next);
            }
        }
    }

    /**
     * A bucket collected while a replay lists the log and created again at once (by a writer whose
     * clock is behind) before the replay looks at it: it is newer than the range, but the entries of
     * the range it held are gone, so the replay must read the horizon again, not skip it silently.
     */
    @Test
    void aBucketCollectedAndCreatedAgainWhileAReplayListsItEndsTheReplayWithAResync() throws Exception {
        String chroot = ZkTestSupport.freshChroot("recreated");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            fiveBatchesThenOnceAfterTheBucketListing(r, () -> {
                CuratorFramework c = r.curator();
                List<String> buckets = c.getChildren().forPath(chroot + "/log");
                r.collectLogGarbage(farFuture());
                for (String bucket : buckets) {
                    c.create().forPath(chroot + "/log/" + bucket);
                }
            });
            FeedRecorder rec = new FeedRecorder();
            try (Watch w = r.watch(RegistryPath.root(), 0, rec)) {
                await().atMost(WAIT).until(() -> !rec.resyncs.isEmpty());
                assertThat(rec.resyncs.get(0)).contains("dropped");
                assertThat(rec.batches).isEmpty();
            }
        }
    }

    /**
     * A primary that raised the horizon and deleted a bucket's entries, but not the bucket yet (one
     * round trip later, or never: it lost its role), while a replay lists the log: the empty bucket
     * is no reason to skip the horizon check.
     */
    @Test
    void aBucketEmptiedButNotYetDeletedWhileAReplayListsItEndsTheReplayWithAResync() throws Exception {
        String chroot = ZkTestSupport.freshChroot("emptied");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            fiveBatchesThenOnceAfterTheBucketListing(r, () -> {
                CuratorFramework c = r.curator();
                r.history().raiseHorizon(c.getZookeeperClient().getZooKeeper(), r.currentSequence());
                for (String bucket : c.getChildren().forPath(chroot + "/log")) {
                    for (String entry : c.getChildren().forPath(chroot + "/log/" + bucket)) {
                        c.delete().forPath(chroot + "/log/" + bucket + "/" + entry);
                    }
                }
            });
            FeedRecorder rec = new FeedRecorder();
            try (Watch w = r.watch(RegistryPath.root(), 0, rec)) {
                await().atMost(WAIT).until(() -> !rec.resyncs.isEmpty());
                assertThat(rec.resyncs.get(0)).contains("dropped");
                assertThat(rec.batches).isEmpty();
            }
        }
    }

    @Test
    void entriesOfAWriterWhoseClockIsBehindAreReplayedInCommitOrder() throws Exception {
        String chroot = ZkTestSupport.freshChroot("skew");
        CuratorFramework raw = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        raw.start();
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options()); raw) {
            FeedRecorder live = new FeedRecorder();
            List<Long> committed = new ArrayList<>();
            try (Watch lw = r.watch(RegistryPath.root(), live)) {
                // buckets 50 s and 30 s behind the clock (not collected before feedRetention): named before the current
                // one, the first created before it and the second after it, each receiving entries between the current one's
                long now = System.currentTimeMillis() / FeedHistory.BUCKET_MILLIS;
                String older = chroot + "/log/b-" + String.format("%012d", now - 5);
                String old = chroot + "/log/b-" + String.format("%012d", now - 3);
                raw.create().withMode(CreateMode.PERSISTENT).withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(older);
                committed.add(set(r, "fast", 0));
                writeBehind(raw, chroot, older, 1);
                committed.add(set(r, "fast", 1));
                raw.create().withMode(CreateMode.PERSISTENT).withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(old);
                writeBehind(raw, chroot, old, 2);
                committed.add(set(r, "fast", 2));
                writeBehind(raw, chroot, older, 3);
                committed.add(set(r, "fast", 3));
                writeBehind(raw, chroot, old, 4);
                await().atMost(WAIT).until(() -> live.batches.size() >= 8);
            }
            assertThat(live.resyncs).isEmpty();
            FeedRecorder replay = new FeedRecorder();
            try (Watch w = r.watch(RegistryPath.root(), 0, replay)) {
                await().atMost(WAIT).until(() -> replay.batches.size() >= 8);
                assertThat(replay.batches).containsExactlyElementsOf(live.batches);
                assertThat(replay.sequences()).isSorted().containsAll(committed);
            }
        }
    }

    /** A batch as a writer whose clock is behind commits it: seq touched, its entry in {@code bucket}. */
    private static void writeBehind(CuratorFramework raw, String chroot, String bucket, int i) throws Exception {
        byte[] entry = ZnodeLayout.encodeLogEntry(List.of(new Change.ValueSet(RegistryPath.parse("slow"), "v",
                new VersionedValue(RegistryValue.dword(i), 1))));
        raw.getZookeeperClient().getZooKeeper().multi(List.of(Op.setData(chroot + "/seq", new byte[0], -1),
                Op.create(bucket + "/slow-" + i, entry, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
    }

    @Test
    void theJunctionMovesUpWhileASlowListenerReplaysAndNothingIsMissedOrDoubled() throws Exception {
        String chroot = ZkTestSupport.freshChroot("junction");
        try (ZooKeeperRegistry reference = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options("feedCapacity", "4"))) {
            FeedRecorder live = new FeedRecorder();
            try (Watch lw = reference.watch(RegistryPath.root(), live)) {
                long checkpoint = set(r, "k", 0);
                for (int i = 1; i < 10; i++) {
                    set(r, "k", i);
                }
                CountDownLatch release = new CountDownLatch(1);
                FeedRecorder replay = new FeedRecorder();
                ChangeListener slow = new ChangeListener() {
                    @Override
                    public void onBatch(ChangeBatch batch) {
                        try {
                            release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        replay.onBatch(batch);
                    }

                    @Override
                    public void onResync(String reason) {
                        replay.onResync(reason);
                    }
                };
                Watch w = r.watch(RegistryPath.root(), checkpoint, slow);
                try {
                    // the listener is stuck on the first replayed batch: live batches pile up beyond what may be held
                    for (int i = 10; i < 30; i++) {
                        set(r, "k", i);
                    }
                    await().atMost(WAIT).until(() -> ((ChangeFeed.FeedWatch) w).junctionMoves() > 0);
                    release.countDown();
                    await().atMost(WAIT).until(() -> live.batches.size() >= 30);
                    await().atMost(WAIT).until(() -> replay.batches.size() >= 29);
                    assertThat(replay.resyncs).isEmpty();
                    assertThat(replay.batches).containsExactlyElementsOf(live.batches.stream().filter(b -> b.sequence() > checkpoint).toList());
                } finally {
                    release.countDown();
                    w.close();
                }
            }
        }
    }

    @Test
    void theLogIsWatchedFromTheFirstWatchOnAndADisconnectBeforeItResynchronisesNobody() throws Exception {
        try (Cuttable c = Cuttable.open("lazy-watch")) {
            set(c.registry(), "a", 1);
            set(c.other(), "a", 2);
            // a read through the proxied registry is answered after any event the server queued for its commits and other's
            c.registry().getValue(RegistryPath.parse("a"), "v");
            assertThat(c.registry().changeLogEventsReceived()).as("no event per batch while nobody watches").isZero();
            // the connection drops and comes back while nobody watches: nothing was missed by anyone
            AtomicBoolean reconnected = new AtomicBoolean();
            // called after the registry's own listener, on the same thread
            c.registry().curator().getConnectionStateListenable().addListener((client, state) -> reconnected.compareAndSet(false, state == ConnectionState.RECONNECTED));
            c.proxy().refuse(true);
            c.proxy().refuse(false);
            await().atMost(Duration.ofSeconds(30)).untilTrue(reconnected);
            FeedRecorder rec = new FeedRecorder();
            try (Watch w = c.registry().watch(RegistryPath.root(), rec)) {
                long theirs = set(c.other(), "b", 4);
                long ours = set(c.registry(), "c", 5);
                await().atMost(WAIT).until(() -> rec.sequences().containsAll(List.of(theirs, ours)));
                assertThat(rec.resyncs).isEmpty();
                assertThat(c.registry().changeLogEventsReceived()).isPositive();
            }
        }
    }

    /**
     * A short disconnect (the session kept): the client re-arms the log watch itself, so an entry
     * created after the reconnect raises its event before the registry's own listener re-registers
     * the watch and resynchronises. Nothing after the gap may be delivered before that resync: a
     * listener (a shipper) took it for contiguous with what came before the gap, and moved its
     * checkpoint past the batch committed while disconnected. Here the feed's registration after the
     * reconnect is held back (the test makes it), so the order cannot depend on timing.
     */
    @Test
    void nothingAfterAShortDisconnectIsDeliveredBeforeTheResync() throws Exception {
        try (Cuttable c = Cuttable.open("gap-order")) {
            org.apache.zookeeper.ZooKeeper zk = c.registry().curator().getZookeeperClient().getZooKeeper();
            ChangeFeed feed = new ChangeFeed(c.registry().layout(), () -> zk, 1_000);
            FeedRecorder rec = new FeedRecorder();
            feed.start(feed.add(RegistryPath.root(), rec), false).get(10, TimeUnit.SECONDS);
            long before = set(c.other(), "a", 1);
            await().atMost(WAIT).until(() -> rec.sequences().contains(before));
            AtomicBoolean reconnected = new AtomicBoolean();
            c.registry().curator().getConnectionStateListenable().addListener((client, state) ->
                    reconnected.compareAndSet(false, state == ConnectionState.RECONNECTED));
            c.proxy().refuse(true);
            long missed = set(c.other(), "a", 2); // committed while disconnected: no event will report it
            c.proxy().refuse(false);
            await().atMost(Duration.ofSeconds(30)).untilTrue(reconnected);
            assertThat(c.registry().curator().getZookeeperClient().getZooKeeper()).as("the same session").isSameAs(zk);
            java.util.Set<String> handled = java.util.concurrent.ConcurrentHashMap.newKeySet();
            feed.observe((entry, changes) -> handled.add(entry));
            long after = set(c.other(), "a", 3);
            await().atMost(WAIT).until(() -> !handled.isEmpty()); // the feed read the entry after the gap
            assertThat(rec.sequences()).as("after the gap (batch %d missed), before any resync", missed).doesNotContain(after);
            assertThat(rec.resyncs).isEmpty();
            feed.install(); // the registration the reconnect makes
            await().atMost(WAIT).until(() -> !rec.resyncs.isEmpty());
            // delivered in order on the watch's dispatcher: a batch delivered before the resync is in by now
            assertThat(rec.sequences()).as("held back, never delivered live (the listener reads it again from its checkpoint)")
                    .doesNotContain(after);
            long next = set(c.other(), "a", 4);
            await().atMost(WAIT).until(() -> rec.sequences().contains(next));
            feed.closeAll();
        }
    }

    /**
     * A lost connection fails the reads still unanswered before ZooKeeper queues its Disconnected
     * event, while our own entries behind them were answered at once (from the bytes we sent): handled
     * before that event, one was delivered after the gap with no resync before it, and a shipper moved
     * its checkpoint past the batch whose read failed. Here the two creation events are given to the
     * feed by the test, the read is sent across a partition (so it is never answered) and the
     * partition heals by cutting the connection: the order cannot depend on timing.
     */
    @Test
    void anOwnEntryBehindAReadTheDisconnectFailsIsNotDeliveredBeforeTheResync() throws Exception {
        try (Cuttable c = Cuttable.open("gap-own-entry")) {
            org.apache.zookeeper.ZooKeeper zk = c.registry().curator().getZookeeperClient().getZooKeeper();
            ChangeFeed feed = new ChangeFeed(c.registry().layout(), () -> zk, 1_000);
            FeedRecorder rec = new FeedRecorder();
            feed.start(feed.add(RegistryPath.root(), rec), false).get(10, TimeUnit.SECONDS);
            long before = set(c.other(), "a", 1);
            await().atMost(WAIT).until(() -> rec.sequences().contains(before));
            AtomicBoolean reconnected = new AtomicBoolean();
            c.registry().curator().getConnectionStateListenable().addListener((client, state) ->
                    reconnected.compareAndSet(false, state == ConnectionState.RECONNECTED));
            long zxid = (before >>> 8) + 1;
            String bucket = c.registry().layout().log + "/b-0";
            c.proxy().partition(true);
            // another writer's entry: its read crosses the partition and is never answered
            feed.process(new org.apache.zookeeper.WatchedEvent(org.apache.zookeeper.Watcher.Event.EventType.NodeCreated,
                    org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected, bucket + "/theirs-1", zxid));
            // our own next entry: answered at once, it waits behind theirs
            Op own = Op.create(bucket + "/ours-1", ZnodeLayout.encodeLogEntry(List.of(new Change.ValueSet(RegistryPath.parse("b"), "v",
                    new VersionedValue(RegistryValue.dword(7), ZnodeLayout.sequence(zxid + 1, 0))))), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            feed.ownEntrySent(own);
            feed.process(new org.apache.zookeeper.WatchedEvent(org.apache.zookeeper.Watcher.Event.EventType.NodeCreated,
                    org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected, own.getPath(), zxid + 1));
            c.proxy().partition(false); // cuts the connection: the read fails with CONNECTIONLOSS, then Disconnected
            await().atMost(Duration.ofSeconds(30)).untilTrue(reconnected);
            assertThat(c.registry().curator().getZookeeperClient().getZooKeeper()).as("the same session").isSameAs(zk);
            feed.install(); // the registration the reconnect makes
            await().atMost(WAIT).until(() -> !rec.resyncs.isEmpty());
            // delivered in order on the watch's dispatcher: a batch delivered before the resync is in by now
            assertThat(rec.sequences()).as("our entry after the failed read: held back, never delivered live")
                    .containsExactly(before);
            feed.closeAll();
        }
    }

    /**
     * The same short disconnect, but the registration after the reconnect fails (Curator gives no
     * handle): no reconnect will come to register again, so the feed must not hold back for ever.
     * The client re-armed the watch itself: the listeners are resynchronised and the feed goes on.
     */
    @Test
    void aRegistrationThatFailsAfterAShortDisconnectResynchronisesInsteadOfHoldingForEver() throws Exception {
        try (Cuttable c = Cuttable.open("gap-no-registration")) {
            org.apache.zookeeper.ZooKeeper zk = c.registry().curator().getZookeeperClient().getZooKeeper();
            AtomicBoolean noHandle = new AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<RuntimeException> handleFailure = new java.util.concurrent.atomic.AtomicReference<>();
            ChangeFeed feed = new ChangeFeed(c.registry().layout(), () -> {
                if (noHandle.get()) {
                    throw handleFailure.get();
                }
                return zk;
            }, 1_000);
            FeedRecorder rec = new FeedRecorder();
            feed.start(feed.add(RegistryPath.root(), rec), false).get(10, TimeUnit.SECONDS);
            AtomicBoolean reconnected = new AtomicBoolean();
            c.registry().curator().getConnectionStateListenable().addListener((client, state) ->
                    reconnected.compareAndSet(false, state == ConnectionState.RECONNECTED));
            c.proxy().refuse(true);
            set(c.other(), "a", 1); // missed
            c.proxy().refuse(false);
            await().atMost(Duration.ofSeconds(30)).untilTrue(reconnected);
            // a failure that is a lost connection: the reconnect that follows registers again, so the hold stays
            noHandle.set(true);
            handleFailure.set(new IllegalStateException("no handle: connection lost",
                    org.apache.zookeeper.KeeperException.create(org.apache.zookeeper.KeeperException.Code.CONNECTIONLOSS)));
            assertThatThrownBy(feed::install).hasMessageContaining("connection lost");
            noHandle.set(false);
            java.util.Set<String> handled = java.util.concurrent.ConcurrentHashMap.newKeySet();
            feed.observe((entry, changes) -> handled.add(entry));
            long held = set(c.other(), "a", 2);
            await().atMost(WAIT).until(() -> !handled.isEmpty());
            assertThat(rec.resyncs).as("still held: a registration will come").isEmpty();
            // any other failure: no reconnect will come, so the hold ends here with a resync
            handleFailure.set(new IllegalStateException("no handle: injected"));
            noHandle.set(true);
            assertThatThrownBy(feed::install).hasMessageContaining("no handle: injected");
            noHandle.set(false);
            await().atMost(WAIT).until(() -> !rec.resyncs.isEmpty());
            assertThat(rec.resyncs.get(0)).contains("could not be registered again");
            assertThat(rec.sequences()).as("held back, never delivered live").doesNotContain(held);
            long next = set(c.other(), "a", 3);
            await().atMost(WAIT).until(() -> rec.sequences().contains(next));
            feed.closeAll();
        }
    }

    /**
     * After a session expiry the new session has no watch until a registration succeeds. One refused
     * other than by a lost connection (no reconnect comes to try again) left the feed silent for good
     * after its one resync. It is tried again, and once in place the listeners resynchronise (what was
     * committed meanwhile is in their re-read) and the feed goes on.
     */
    @Test
    void aRegistrationRefusedOnANewSessionIsTriedAgainUntilTheFeedIsBack() throws Exception {
        java.util.concurrent.ScheduledExecutorService retries = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (Cuttable c = Cuttable.open("refused-new-session");
             CuratorFramework fresh = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100))) {
            fresh.start();
            assertThat(fresh.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
            org.apache.zookeeper.ZooKeeper first = c.registry().curator().getZookeeperClient().getZooKeeper();
            org.apache.zookeeper.ZooKeeper second = fresh.getZookeeperClient().getZooKeeper(); // a new session: no watch of the feed's
            java.util.concurrent.atomic.AtomicReference<Object> now = new java.util.concurrent.atomic.AtomicReference<>(first);
            ChangeFeed feed = new ChangeFeed(c.registry().layout(), () -> {
                if (now.get() instanceof RuntimeException e) {
                    throw e;
                }
                return (org.apache.zookeeper.ZooKeeper) now.get();
            }, 1_000);
            feed.retryRegistrationWith((task, delayMillis) -> retries.schedule(task, delayMillis, TimeUnit.MILLISECONDS));
            FeedRecorder rec = new FeedRecorder();
            feed.start(feed.add(RegistryPath.root(), rec), false).get(10, TimeUnit.SECONDS);
            long before = set(c.other(), "a", 1);
            await().atMost(WAIT).until(() -> rec.sequences().contains(before));
            AtomicBoolean suspended = new AtomicBoolean();
            c.registry().curator().getConnectionStateListenable().addListener((client, state) ->
                    suspended.compareAndSet(false, state == ConnectionState.SUSPENDED));
            c.proxy().refuse(true); // the first session's connection is gone for good
            await().atMost(Duration.ofSeconds(30)).untilTrue(suspended);
            // the new session's registration is refused (Curator gives no handle)
            now.set(new IllegalStateException("no handle: injected"));
            assertThatThrownBy(feed::install).hasMessageContaining("no handle: injected");
            await().atMost(WAIT).until(() -> rec.resyncs.size() == 1);
            long meanwhile = set(c.other(), "a", 2); // no session watches the log now
            now.set(second);
            await().atMost(WAIT).until(() -> rec.resyncs.size() == 2); // registered on the new session by a retry
            assertThat(rec.sequences()).as("not delivered live; in the listener's re-read").doesNotContain(meanwhile);
            long next = set(c.other(), "a", 3);
            await().atMost(WAIT).until(() -> rec.sequences().contains(next));
            feed.closeAll();
        } finally {
            retries.shutdownNow();
        }
    }

    @Test
    void aSecondWatchReadsItsStartOnlyAfterTheFirstOnesRegistrationOfTheLogWatchIsSent() throws Exception {
        String chroot = ZkTestSupport.freshChroot("want-race");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            org.apache.zookeeper.ZooKeeper zk = r.curator().getZookeeperClient().getZooKeeper();
            // the first caller to ask for the handle (the first watch, registering the log watch) is held there
            CountDownLatch release = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicInteger handles = new java.util.concurrent.atomic.AtomicInteger();
            ChangeFeed feed = new ChangeFeed(r.layout(), () -> {
                if (handles.getAndIncrement() == 0) {
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return zk;
            }, 1_000);
            FeedRecorder first = new FeedRecorder();
            FeedRecorder second = new FeedRecorder();
            java.util.concurrent.CompletableFuture<Long> aStart = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> feed.start(feed.add(RegistryPath.root(), first), false).join());
            await().atMost(WAIT).until(() -> handles.get() == 1);
            java.util.concurrent.CompletableFuture<Long> bStart = new java.util.concurrent.CompletableFuture<>();
            Thread tb = new Thread(() -> {
                try {
                    bStart.complete(feed.start(feed.add(RegistryPath.root(), second), false).join());
                } catch (RuntimeException e) {
                    bStart.completeExceptionally(e);
                }
            }, "second-watch");
            tb.start();
            // the second watch either waits for the first one's registration or (the bug) reads its start at once
            await().atMost(WAIT).until(() -> bStart.isDone() || tb.getState() == Thread.State.BLOCKED);
            // committed while the log watch is not registered yet: no event is coming for it
            long unseen = set(r, "a", 1);
            release.countDown();
            long bFrom = bStart.get(10, TimeUnit.SECONDS);
            aStart.get(10, TimeUnit.SECONDS);
            tb.join(10_000);
            long next = set(r, "a", 2);
            await().atMost(WAIT).until(() -> second.sequences().contains(next) && first.sequences().contains(next));
            assertThat(bFrom).as("the second watch started after the batch no event reports").isGreaterThanOrEqualTo(unseen);
            assertThat(second.sequences()).containsExactly(next);
            assertThat(second.resyncs).isEmpty();
            feed.closeAll();
        }
    }

    @Test
    void aReplayingWatchThroughAConnectionCutDeliversEveryBatchOrResyncsNeverASilentGap() throws Exception {
        try (Cuttable pair = Cuttable.open("replay-cut")) {
            ZooKeeperRegistry r = pair.registry();
            ZooKeeperRegistry other = pair.other();
            CuttingProxy proxy = pair.proxy();
            List<Long> committed = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < 20; i++) {
                committed.add(set(other, "k" + (i % 4), i));
            }
            FeedRecorder rec = new FeedRecorder();
            try (Watch w = r.watch(RegistryPath.root(), 0, rec)) {
                // the replaying watch's connection is cut while the history is read and while others write
                proxy.refuse(true);
                for (int i = 20; i < 40; i++) {
                    committed.add(set(other, "k" + (i % 4), i));
                }
                proxy.refuse(false);
                // events missed while disconnected: once the feed's watch is registered again the watch is
                // resynchronised (the replay, cut first, resynchronises on its own); then it is live again
                await().atMost(Duration.ofSeconds(60)).until(() -> rec.resyncs.stream().anyMatch(x -> x.contains("changes made meanwhile were not delivered")));
                long last = set(other, "k0", 99);
                committed.add(last);
                await().atMost(Duration.ofSeconds(60)).until(() -> rec.sequences().contains(last));
                // between two deliveries with no resync in between, no committed batch is missing; before the
                // first resync the replay from 0 starts at the first batch
                long previous = rec.resyncs.isEmpty() || !(rec.events.get(0) instanceof String) ? 0 : -1;
                List<String> gaps = new ArrayList<>();
                for (Object e : rec.events) {
                    if (e instanceof String) {
                        previous = -1; // a resync: what came before no longer binds
                        continue;
                    }
                    long s = ((ChangeBatch) e).sequence();
                    if (previous >= 0) {
                        for (long c : committed) {
                            if (c > previous && c < s) {
                                gaps.add("batch " + c + " missing between " + previous + " and " + s + " with no resync");
                            }
                        }
                        assertThat(s).as("sequences increase").isGreaterThan(previous);
                    }
                    previous = s;
                }
                assertThat(gaps).isEmpty();
                assertThat(rec.sequences()).doesNotHaveDuplicates();
            }
        }
    }
}
