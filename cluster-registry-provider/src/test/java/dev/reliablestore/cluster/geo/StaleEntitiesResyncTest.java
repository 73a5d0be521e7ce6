package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.geo.TestSites.Site;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A site that holds an entity the other deleted longer ago than the window (the tombstone
 * collected), as one restored from an old copy does: shipping it back is refused, and without help
 * a resync keeps it. A resync asked to remove stale entities deletes it there — only that one: not
 * an entity written within the window, nor one that changed since it was found stale — with a
 * delete stamped just after the stale write, so re-creating the entity later wins over it; then a
 * resync the other way and shipping leave both sites alike, with nothing deleted come back.
 */
class StaleEntitiesResyncTest {

    private static final Duration WINDOW = Duration.ofMinutes(10);
    private static final Duration SKEW = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private TestSites sites;

    @BeforeEach
    void openSites() {
        sites = new TestSites(dir, List.of("lima", "paris"));
    }

    @AfterEach
    void closeAll() {
        sites.close();
    }

    private static void save(Site s, String id, String json) {
        s.save(id, json);
    }

    private static Map<String, String> content(Site s) {
        return s.content();
    }

    private static SiteReplication.Resynced resync(Site from, Site to, boolean removeStale) {
        return new SiteResync(from.site(), to.site(), CrossSiteConflicts.LAST_WRITE_WINS, from.wall()::get, WINDOW, WINDOW, SKEW, removeStale).run();
    }

    @Test
    void aResyncRemovesWhatTheSourceDeletedLongerAgoThanTheWindowAndNothingElse() {
        Site lima = site("lima");
        Site paris = site("paris");
        // both hold "kept" and "ghost"; lima deletes "ghost" and, a window later, collects the tombstone
        save(lima, "kept", "{\"n\":1}");
        save(lima, "ghost", "{\"n\":2}");
        sites.release(CrossSiteConflicts.LAST_WRITE_WINS, null, WINDOW, c -> { });
        await().atMost(Duration.ofSeconds(30)).until(() -> content(paris).size() == 2);
        sites.hold();
        lima.wall().set(1_000_500);
        save(lima, "ghost", null);
        long later = 1_000_500 + WINDOW.toMillis() + SKEW.toMillis() + 1_000;
        lima.wall().set(later);
        paris.wall().set(later);
        assertThat(new TombstoneCollector(lima.site(), WINDOW, SKEW, lima.wall()::get).collect()).isEqualTo(1);
        // paris, as if restored from a copy taken before the delete, still holds "ghost" (the delete never reached it);
        // it writes "fresh" now, which lima holds nothing of either, but within the window
        save(paris, "fresh", "{\"n\":3}");

        SiteReplication.Resynced counted = resync(lima, paris, false);
        assertThat(counted.stale()).isEqualTo(1);
        assertThat(counted.removed()).isZero();
        assertThat(content(paris)).containsKey("ghost");

        SiteReplication.Resynced removed = resync(lima, paris, true);
        assertThat(removed.stale()).isEqualTo(1);
        assertThat(removed.removed()).isEqualTo(1);
        assertThat(content(paris)).containsOnlyKeys("kept", "fresh");
        SiteState tombstone = SiteTranslatorTest.states(paris.registry(), paris.states()).get("ghost");
        assertThat(tombstone.deleted()).isTrue();
        assertThat(tombstone.origin()).as("paris's own delete").isEqualTo("paris");
        assertThat(HybridClock.physical(tombstone.hlc())).as("stamped just after the stale write, not now").isEqualTo(1_000_000);

        // the other way: lima receives paris's "fresh" and the tombstone; then shipping runs both ways without a stop,
        // and lima creating "ghost" again wins over the delete at paris
        resync(paris, lima, false);
        save(lima, "after", "{\"n\":4}");
        save(lima, "ghost", "{\"n\":5}");
        sites.release(CrossSiteConflicts.LAST_WRITE_WINS, null, WINDOW, c -> { });
        await().atMost(Duration.ofSeconds(30)).until(() -> content(paris).containsKey("after") && content(paris).containsKey("ghost"));
        sites.hold(); // no shipper stopped
        assertThat(content(lima)).isEqualTo(content(paris)).containsOnlyKeys("kept", "fresh", "after", "ghost");
        assertThat(content(paris)).containsEntry("ghost", "{\"n\":5}");
    }

    /**
     * Paris wrote an entity, lima deleted it and, a window later, collected the tombstone and created
     * the entity again; paris still holds the tombstone. A resync lands the re-creation there as
     * shipping does, as at a site that collected it: both sites hold the same state, vector included.
     */
    @Test
    void aResyncMergesAnEntityReCreatedAfterItsTombstoneWasCollectedAsShippingDoes() {
        Site lima = site("lima");
        Site paris = site("paris");
        save(paris, "x", "{\"n\":1}");
        sites.release(CrossSiteConflicts.LAST_WRITE_WINS, null, WINDOW, c -> { });
        await().atMost(Duration.ofSeconds(30)).until(() -> content(lima).containsKey("x"));
        sites.hold();
        lima.wall().set(1_000_500);
        save(lima, "x", null);
        sites.release(CrossSiteConflicts.LAST_WRITE_WINS, null, WINDOW, c -> { });
        await().atMost(Duration.ofSeconds(30)).until(() -> !content(paris).containsKey("x"));
        sites.hold();
        long later = 1_000_500 + WINDOW.toMillis() + SKEW.toMillis() + 1_000;
        lima.wall().set(later);
        paris.wall().set(later);
        assertThat(new TombstoneCollector(lima.site(), WINDOW, SKEW, lima.wall()::get).collect()).isEqualTo(1);
        save(lima, "x", "{\"n\":2}");

        // as the CLI runs it by default: no stale age asked for, the store's window still decides what is past collection
        new SiteResync(lima.site(), paris.site(), CrossSiteConflicts.LAST_WRITE_WINS, lima.wall()::get, null, WINDOW, SKEW, false).run();
        assertThat(content(paris)).containsEntry("x", "{\"n\":2}");
        assertThat(SiteTranslatorTest.states(paris.registry(), paris.states()).get("x"))
                .isEqualTo(SiteTranslatorTest.states(lima.registry(), lima.states()).get("x"));
    }

    /**
     * A source that went back (restored from an older copy, or a new registry) is behind the
     * checkpoint the target keeps for it: its next batches reuse sequences the checkpoint passed and
     * would never be shipped. The resync, which brings everything the source holds, lowers it.
     */
    @Test
    void aResyncFromASourceThatWentBackLowersTheTargetsCheckpointForIt() {
        Site lima = site("lima");
        Site paris = site("paris");
        save(lima, "x", "{\"n\":1}");
        ShipmentLedger ledger = new ShipmentLedger(paris.registry(), SiteReplication.ledgerKey(paris.site().layout()), "lima");
        assertThat(ledger.apply(1_000_000, List.of())).isEqualTo(ShipmentLedger.Outcome.APPLIED); // lima was further once
        resync(lima, paris, false);
        assertThat(content(paris)).containsEntry("x", "{\"n\":1}");
        long head = lima.registry().currentSequence();
        assertThat(new ShipmentLedger(paris.registry(), SiteReplication.ledgerKey(paris.site().layout()), "lima").checkpoint())
                .isPositive().isLessThanOrEqualTo(head);
    }

    @Test
    void anEntityThatChangedSinceItWasFoundStaleIsLeft() {
        Site lima = site("lima");
        Site paris = site("paris");
        save(paris, "old", "{\"n\":1}");
        long later = 1_000_000 + WINDOW.toMillis() + 1_000;
        lima.wall().set(later);
        paris.wall().set(later);
        SiteState found = SiteTranslatorTest.states(paris.registry(), paris.states()).get("old");
        save(paris, "old", "{\"n\":2}"); // written again after it was found stale: no longer stale
        SiteResync r = new SiteResync(lima.site(), paris.site(), CrossSiteConflicts.LAST_WRITE_WINS, lima.wall()::get, WINDOW, WINDOW, SKEW, true);
        assertThat(r.removeStale(SiteTranslatorTest.TYPE, Map.of("old", found))).isZero();
        assertThat(content(paris)).containsEntry("old", "{\"n\":2}");
    }

    @Test
    void removingStaleEntitiesNeedsTheAgeThatMakesThemStaleAndAtLeastTheShortestWindow() {
        assertThatThrownBy(() -> new SiteResync(site("lima").site(), site("paris").site(), CrossSiteConflicts.LAST_WRITE_WINS,
                () -> 0, null, WINDOW, SKEW, true)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conflict-resolution window");
        assertThatThrownBy(() -> new SiteResync(site("lima").site(), site("paris").site(), CrossSiteConflicts.LAST_WRITE_WINS,
                () -> 0, Duration.ofSeconds(30), WINDOW, SKEW, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT30S").hasMessageContaining("at least PT1M");
    }

    private Site site(String name) {
        return sites.site(name);
    }
}
