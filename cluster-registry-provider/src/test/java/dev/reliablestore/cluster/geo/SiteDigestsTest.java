package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.geo.TestSites.Site;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A resync compares two sites by range hashes: each site's shipper-lease holder (here a thread
 * standing in for it) hashes its own entities, and the resync reads whole, from the source, only
 * the entities whose stamps differ; a site nobody answers for is read by the resync itself, with
 * the same result.
 */
class SiteDigestsTest {

    private static final Duration SKEW = Duration.ofSeconds(5);
    /** The stores' conflict-resolution window. */
    private static final Duration WINDOW = Duration.ofHours(1);
    private static final RegistryPath ENVELOPES = SiteTranslatorTest.LAYOUT.type(SiteTranslatorTest.TYPE);

    @TempDir
    Path dir;
    private TestSites sites;
    private final List<Thread> answerers = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();

    @BeforeEach
    void openSites() {
        sites = new TestSites(dir, List.of("lima", "paris"));
    }

    @AfterEach
    void closeAll() throws InterruptedException {
        stop.set(true);
        for (Thread t : answerers) {
            t.join();
        }
        sites.close();
    }

    private static void save(Site s, String id, String json) {
        s.save(id, json);
    }

    private static Map<String, String> content(Site s) {
        return s.content();
    }

    /** Gives {@code s} a shipper lease held for an hour, as a factory there would. */
    private static void leaseHeld(Site s) {
        s.registry().commit(WriteBatch.builder().setValue(SiteReplication.leaseKey(SiteTranslatorTest.LAYOUT), SiteReplication.LEASE_VALUE,
                RegistryValue.sz((System.currentTimeMillis() + 3_600_000) + " test/" + s.name())).build());
    }

    /** A thread that answers {@code s}'s range-hash requests, as its shipper-lease holder does every second. */
    private void answering(Site s) {
        Thread t = new Thread(() -> {
            while (!stop.get()) {
                SiteDigests.answer(s.site(), System::currentTimeMillis);
                LockSupport.parkNanos(5_000_000);
            }
        }, "answers-" + s.name());
        t.start();
        answerers.add(t);
    }

    /** Two sites alike (200 entities), then lima changes 3 and deletes 1 while paris writes one of its own, unshipped. */
    private void twoSitesApart(Site lima, Site paris) {
        Map<String, byte[]> many = new TreeMap<>();
        for (int i = 0; i < 200; i++) {
            many.put("e" + i, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8));
        }
        ConflictRecordsTest.saveBatch(lima, many);
        sites.release(CrossSiteConflicts.LAST_WRITE_WINS, null, null, c -> { });
        await().atMost(Duration.ofSeconds(30)).until(() -> content(paris).size() == 200);
        sites.hold();
        lima.wall().set(1_000_100);
        save(lima, "e7", "{\"n\":\"seven\"}");
        save(lima, "e70", "{\"n\":\"seventy\"}");
        save(lima, "e170", "{\"n\":\"one-seventy\"}");
        save(lima, "e9", null);
        save(paris, "paris-only", "{\"n\":-1}");
    }

    @Test
    void aResyncReadsWholeFromTheSourceOnlyTheEntitiesWhoseStampsDiffer() {
        Site lima = sites.site("lima");
        Site paris = sites.site("paris");
        twoSitesApart(lima, paris);
        leaseHeld(lima);
        leaseHeld(paris);
        answering(lima);
        answering(paris);
        // what the resync reads of lima's values, by id and whole
        AtomicInteger byId = new AtomicInteger();
        AtomicInteger whole = new AtomicInteger();
        ClusterRegistry counted = SiteShipperTest.around(lima.registry(), (method, args, proceed) -> {
            if (method.equals("read")) {
                for (ReadBatch.Read r : ((ReadBatch) args[0]).reads()) {
                    if (r instanceof ReadBatch.ValueRead v && v.key().equals(ENVELOPES)) {
                        byId.incrementAndGet();
                    } else if (r instanceof ReadBatch.ValuesRead v && v.key().equals(ENVELOPES)) {
                        whole.incrementAndGet();
                    }
                }
            } else if (method.equals("values") && ENVELOPES.equals(args[0])) {
                whole.incrementAndGet();
            }
            return proceed.call();
        });
        SiteReplication.Site limaSeen = new SiteReplication.Site("lima", counted, SiteTranslatorTest.LAYOUT, lima.site().locks(),
                lima.site().envelopes());

        // lima's answers carry the hashes of one or two entities at a time: the differing ranges are asked for in several requests
        SiteReplication.Resynced r = new SiteResync(limaSeen, paris.site(), CrossSiteConflicts.LAST_WRITE_WINS, lima.wall()::get, null, WINDOW, SKEW,
                false).hashedBy(SiteDigests.of(limaSeen, Duration.ofSeconds(30), 2), SiteDigests.of(paris.site(), Duration.ofSeconds(30))).run();

        assertThat(r.hashedAt()).containsExactlyInAnyOrder("lima", "paris");
        assertThat(r.compared()).as("199 values and a tombstone").isEqualTo(200);
        assertThat(r.fetched()).isEqualTo(4);
        assertThat(r.written()).isEqualTo(4);
        assertThat(r.differing()).isBetween(1, 5);
        assertThat(whole.get()).as("lima's values read whole").isZero();
        assertThat(byId.get()).as("lima's values read by id").isEqualTo(4);
        Map<String, String> expected = new TreeMap<>(content(lima));
        expected.put("paris-only", "{\"n\":-1}");
        assertThat(content(paris)).isEqualTo(expected);
        assertThat(requestsLeft(lima)).as("the requests are removed once answered").isZero();
        assertThat(requestsLeft(paris)).isZero();

        SiteReplication.Resynced again = new SiteResync(limaSeen, paris.site(), CrossSiteConflicts.LAST_WRITE_WINS, lima.wall()::get, null, WINDOW,
                SKEW, false).hashedBy(SiteDigests.of(limaSeen, Duration.ofSeconds(30)), SiteDigests.of(paris.site(), Duration.ofSeconds(30))).run();
        assertThat(again.differing()).as("only paris-only's range differs now").isEqualTo(1);
        assertThat(again.fetched()).isZero();
        assertThat(again.written()).isZero();
    }

    @Test
    void aSiteWhoseLeaseHolderDoesNotAnswerOrThatHasNoneIsReadByTheResyncAlike() {
        Site lima = sites.site("lima");
        Site paris = sites.site("paris");
        twoSitesApart(lima, paris);
        leaseHeld(lima); // held, but nobody answers: asked, then read after the wait
        // paris: no lease, so not asked

        SiteReplication.Resynced r = new SiteResync(lima.site(), paris.site(), CrossSiteConflicts.LAST_WRITE_WINS, lima.wall()::get, null, WINDOW,
                SKEW, false).hashedBy(SiteDigests.of(lima.site(), Duration.ofMillis(200)), SiteDigests.of(paris.site(), Duration.ofSeconds(30)))
                .run();

        assertThat(r.hashedAt()).isEmpty();
        assertThat(r.compared()).isEqualTo(200);
        assertThat(r.fetched()).isEqualTo(4);
        assertThat(r.written()).isEqualTo(4);
        Map<String, String> expected = new TreeMap<>(content(lima));
        expected.put("paris-only", "{\"n\":-1}");
        assertThat(content(paris)).isEqualTo(expected);
        assertThat(requestsLeft(lima)).as("the unanswered request is withdrawn").isZero();
    }

    @Test
    void rangesOfTheSameStatesAreEqualAndAnEntityWhoseStampDiffersChangesItsRangeAlone() {
        Map<String, SiteState> here = new TreeMap<>();
        for (int i = 0; i < 500; i++) {
            here.put("id-" + i, SiteState.after(null, new byte[] {(byte) i}, "lima", HybridClock.pack(1_000 + i, 0)));
        }
        Map<String, SiteState> there = new TreeMap<>(here);
        assertThat(SiteDigests.ranges(SiteDigests.hashes(here)).differing(SiteDigests.ranges(SiteDigests.hashes(there)))).isEmpty();

        SiteState id42 = here.get("id-42");
        there.put("id-42", new SiteState(id42.value(), id42.hlc(), id42.origin(), id42.vector().increment("paris")));
        assertThat(SiteDigests.ranges(SiteDigests.hashes(here)).differing(SiteDigests.ranges(SiteDigests.hashes(there))))
                .as("the same write, but including another").containsExactly(SiteDigests.range("id-42"));
        there.put("id-42", SiteState.after(id42, null, "lima", id42.hlc() + 1));
        there.put("new", SiteState.after(null, new byte[] {1}, "paris", HybridClock.pack(5_000, 0)));
        assertThat(SiteDigests.ranges(SiteDigests.hashes(here)).differing(SiteDigests.ranges(SiteDigests.hashes(there))))
                .isEqualTo(Set.of(SiteDigests.range("id-42"), SiteDigests.range("new")));
        assertThat(SiteDigests.ranges(SiteDigests.hashes(there)).entities()).isEqualTo(501);
    }

    private static int requestsLeft(Site s) {
        try {
            return s.registry().subkeys(SiteDigests.key(SiteTranslatorTest.LAYOUT)).size();
        } catch (NoSuchKeyException none) {
            return 0;
        }
    }
}
