package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.conformance.FeedRecorder;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** What the conformance suite cannot see of the clusapi change history (FeedHistory): its bounds, reopening, its layout. */
@SuppressWarnings("try") // watches are held open for a block, never used by name
class ClusapiFeedHistoryTest {

    private static final String BASE = "Software\\RS";
    private static final String HISTORY = BASE + "\\" + Reserved.HISTORY;

    private final FakeClusApi fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2");
    private final List<ClusapiRegistry> opened = new ArrayList<>();
    private final MovableClock clock = new MovableClock();

    private ClusapiRegistry open(Map<String, String> options) {
        Map<String, String> all = new java.util.HashMap<>(options);
        all.put("localNode", "NODE1");
        ClusapiRegistry r = ClusapiRegistry.open(ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"), all),
                new ClusapiNatives(fake, fake, fake, fake.waiter()));
        r.useClock(clock);
        opened.add(r);
        return r;
    }

    @AfterEach
    void closeAll() {
        opened.forEach(ClusapiRegistry::close);
        assertThat(fake.openHandles()).as("native handles left open").isZero();
    }

    private static long set(ClusapiRegistry r, String key, RegistryValue v) {
        return r.commit(WriteBatch.builder().setValue(RegistryPath.parse(key), "v", v).build()).sequence();
    }

    @Test
    void aRecordIsKeptExactlyFeedRetentionAcrossReopeningAndItsDropIsDurable() {
        ClusapiRegistry r = open(Map.of("feedRetention", "1h"));
        set(r, "a", RegistryValue.dword(1));
        set(r, "a", RegistryValue.dword(2));
        r.close();

        clock.advance(Duration.ofMinutes(30));
        r = open(Map.of("feedRetention", "1h"));
        long third = set(r, "a", RegistryValue.dword(3));
        clock.advance(Duration.ofMinutes(30)); // the first two are exactly feedRetention old: kept
        assertThat(r.pruneFeedHistory()).isZero();
        assertThat(replay(r, 0, 3)).extracting(ChangeBatch::sequence).containsExactly(1L, 2L, 3L);

        clock.advance(Duration.ofMillis(1));
        long fourth = set(r, "a", RegistryValue.dword(4)); // the commit drops what is older than 1h, in its own native batch
        assertThat(r.replayableAfter()).isEqualTo(2);
        assertThat(fake.rawValueNames(HISTORY)).containsExactlyInAnyOrder("/3", "/3/0", "/4", "/4/0");
        r.close();

        ClusapiRegistry again = open(Map.of("feedRetention", "1h"));
        assertThat(again.replayableAfter()).as("replayableAfter() after reopening").isEqualTo(2);
        assertThatThrownBy(() -> again.watch(RegistryPath.root(), 1, new FeedRecorder()))
                .isInstanceOfSatisfying(FeedHistoryUnavailableException.class, e -> assertThat(e.replayableAfter()).isEqualTo(2))
                .hasMessageContaining("feedRetention 1h");
        assertThat(replay(again, 2, 2)).extracting(ChangeBatch::sequence).containsExactly(third, fourth);
    }

    @Test
    void sizeAndCountBoundTheHistoryButNeverDropTheNewestRecord() {
        ClusapiRegistry r = open(Map.of("feedHistorySize", "1MiB", "feedHistoryBatches", "3"));
        for (int i = 0; i < 5; i++) {
            set(r, "small", RegistryValue.dword(i));
        }
        assertThat(r.replayableAfter()).as("5 batches, 3 kept").isEqualTo(2);

        byte[] third = new byte[RegistryValue.MAX_SIZE / 3];
        set(r, "big/a", RegistryValue.binary(third));
        set(r, "big/b", RegistryValue.binary(third));
        long last = set(r, "big/c", RegistryValue.binary(third));
        assertThat(r.replayableAfter()).as("three third-MiB records and their headers exceed 1 MiB").isEqualTo(last - 2);
        assertThat(qword(Reserved.FEED_BYTES)).isLessThanOrEqualTo(1024 * 1024);

        // one batch larger than the bound: its record is cut into 1 MiB chunks and kept, alone
        WriteBatch huge = WriteBatch.builder().setValue(RegistryPath.parse("huge"), "a", RegistryValue.binary(new byte[RegistryValue.MAX_SIZE]))
                .setValue(RegistryPath.parse("huge"), "b", RegistryValue.binary(new byte[]{7})).build();
        FeedRecorder live = new FeedRecorder();
        try (Watch w = r.watch(RegistryPath.root(), live)) {
            long seq = r.commit(huge).sequence();
            await().atMost(Duration.ofSeconds(10)).until(() -> live.batches.size() == 1);
            assertThat(r.replayableAfter()).isEqualTo(seq - 1);
            assertThat(fake.rawValueNames(HISTORY)).containsExactlyInAnyOrder("/" + seq, "/" + seq + "/0", "/" + seq + "/1");
            assertThat(replay(r, seq - 1, 1)).containsExactlyElementsOf(live.batches);
        }
    }

    @Test
    void aRegistryWrittenBeforeTheHistoryExistedReplaysOnlyWhatFollowsAndHidesTheHistoryKey() {
        ClusapiRegistry r = open(Map.of());
        set(r, "k", RegistryValue.dword(1));
        long before = set(r, "k", RegistryValue.dword(2));
        r.close();
        // as an older ReliableStore left it: no history key, no bookkeeping values
        try (Cluster c = Cluster.open(fake, "FAKECLUSTER"); ClusterKey root = c.rootKey(ClusApiTypes.KEY_ALL_ACCESS);
             ClusterKey base = root.create(BASE, ClusApiTypes.KEY_ALL_ACCESS); NativeWriteBatch b = new NativeWriteBatch(fake, base)) {
            b.add(ClusApiTypes.CLUSREG_DELETE_KEY, Reserved.HISTORY, 0, null);
            b.add(ClusApiTypes.CLUSREG_CREATE_KEY, "", 0, null);
            for (String v : List.of(Reserved.FEED_AFTER, Reserved.FEED_BYTES, Reserved.FEED_OLDEST)) {
                b.add(ClusApiTypes.CLUSREG_DELETE_VALUE, v, 0, null);
            }
            assertThat(b.commit().succeeded()).isTrue();
        }

        ClusapiRegistry upgraded = open(Map.of());
        assertThat(upgraded.replayableAfter()).as("nothing before the upgrade can be replayed").isEqualTo(before);
        assertThatThrownBy(() -> upgraded.watch(RegistryPath.root(), 0, new FeedRecorder())).isInstanceOf(FeedHistoryUnavailableException.class);
        long next = set(upgraded, "k", RegistryValue.dword(3));
        assertThat(upgraded.replayableAfter()).isEqualTo(before);
        assertThat(replay(upgraded, before, 1)).extracting(ChangeBatch::sequence).containsExactly(next);

        assertThat(fake.rawValueNames(HISTORY)).isNotEmpty();
        assertThat(upgraded.subkeys(RegistryPath.root())).containsExactly("k");
        assertThat(upgraded.values(RegistryPath.root())).isEmpty();
    }

    @Test
    void historyDroppedWhileAWatchReplaysItEndsTheReplayWithAResyncAndTheWatchGoesOnLive() throws Exception {
        ClusapiRegistry r = open(Map.of("feedRetention", "1h"));
        for (int i = 0; i < 70; i++) {
            set(r, "k" + i, RegistryValue.dword(i));
        }
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FeedRecorder rec = new FeedRecorder() {
            @Override
            public void onBatch(ChangeBatch batch) {
                super.onBatch(batch);
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (Watch w = r.watch(RegistryPath.root(), 0, rec)) {
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            // the replay holds at most 64 queued + 1 delivered + 1 read, so records of the 70 are still unread
            clock.advance(Duration.ofHours(2));
            assertThat(r.pruneFeedHistory()).isEqualTo(70);
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> !rec.resyncs.isEmpty());
            long next = set(r, "after", RegistryValue.dword(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> rec.sequences().contains(next));
            List<Long> replayed = rec.sequencesBeforeResync;
            assertThat(replayed).isNotEmpty().hasSizeLessThan(70);
            for (int i = 0; i < replayed.size(); i++) {
                assertThat(replayed.get(i)).isEqualTo(i + 1L);
            }
            assertThat(rec.resyncs).hasSize(1).first().asString().contains("dropped");
            assertThat(rec.sequences()).endsWith(next);
        }
    }

    private long qword(String name) {
        return Reserved.qword(fake.rawValue(BASE, name).data());
    }

    /** Opens a replaying watch, waits for {@code count} batches and closes it. */
    private static List<ChangeBatch> replay(ClusapiRegistry r, long after, int count) {
        FeedRecorder rec = new FeedRecorder();
        try (Watch w = r.watch(RegistryPath.root(), after, rec)) {
            assertThat(w.startSequence()).isEqualTo(after);
            await().atMost(Duration.ofSeconds(10)).until(() -> rec.batches.size() >= count);
        }
        assertThat(rec.resyncs).isEmpty();
        return List.copyOf(rec.batches);
    }

    /** A clock the test moves: commit times and the retention cut-off without waiting. */
    private static final class MovableClock extends Clock {
        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
