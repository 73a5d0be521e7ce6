package dev.reliablestore.cluster.geo;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SiteStateTest {

    @Test
    void aStampCarriesTheClockTheOriginAndTheVectorExactly() {
        HybridClock clock = new HybridClock(() -> 1_764_000_000_000L, Duration.ofSeconds(5));
        SiteState first = SiteState.write(null, "{\"a\":1}".getBytes(StandardCharsets.UTF_8), "tokyo", clock);
        SiteState merged = CrossSiteMerge.merge(first, SiteState.write(null, null, "sao_paulo-2", clock)).state();
        SiteState second = SiteState.write(merged, "{\"a\":2}".getBytes(StandardCharsets.UTF_8), "tokyo", clock);
        for (SiteState s : new SiteState[]{first, merged, second}) {
            assertThat(SiteState.stamped(s.value(), s.stamp())).isEqualTo(s);
        }
        // each site's counter is the stamp of its latest write the state includes
        assertThat(second.vector().asMap()).containsOnly(Map.entry("tokyo", second.hlc()), Map.entry("sao_paulo-2", merged.vector().get("sao_paulo-2")));
        assertThat(merged.vector().get("sao_paulo-2")).isGreaterThan(first.hlc());
    }

    @Test
    void aDamagedStampIsRefusedWithTheReason() {
        HybridClock clock = new HybridClock(() -> 1_764_000_000_000L, Duration.ofSeconds(5));
        byte[] stamp = SiteState.write(null, new byte[]{1}, "lima", clock).stamp();
        for (int n = 0; n < stamp.length; n++) {
            byte[] cut = Arrays.copyOf(stamp, n);
            assertThatThrownBy(() -> SiteState.stamped(null, cut)).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] longer = Arrays.copyOf(stamp, stamp.length + 1);
        assertThatThrownBy(() -> SiteState.stamped(null, longer)).hasMessageContaining("1 bytes after its vector");
        byte[] future = stamp.clone();
        future[0] = 2;
        assertThatThrownBy(() -> SiteState.stamped(null, future)).hasMessageContaining("stamp format 2 is unknown");
    }

    @Test
    void aValueFromBeforeSitesWereConfiguredIsTheSameTimeZeroWriteAtEverySite() {
        byte[] json = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        SiteState atParis = SiteState.unstamped(json);
        SiteState atTokyo = SiteState.unstamped(json.clone());
        assertThat(atParis).isEqualTo(atTokyo);
        assertThat(atParis.unstamped()).isTrue();
        assertThat(SiteState.stamped(json, atParis.stamp())).isEqualTo(atParis);
        // a time-zero stamp written by an earlier build (the holding site's own write) reads as the shared one
        byte[] earlier = new SiteState(json, 0, "tokyo", VersionVector.EMPTY.increment("tokyo")).stamp();
        assertThat(SiteState.stamped(json, earlier)).isEqualTo(atParis);
        assertThat(CrossSiteMerge.merge(atTokyo, atParis).kind()).isEqualTo(CrossSiteMerge.Kind.ALREADY_INCLUDED);
        HybridClock clock = new HybridClock(() -> 1_764_000_000_000L, Duration.ofSeconds(5));
        SiteState update = SiteState.write(atParis, "{\"a\":2}".getBytes(StandardCharsets.UTF_8), "paris", clock);
        assertThat(CrossSiteMerge.merge(atTokyo, update).kind()).isEqualTo(CrossSiteMerge.Kind.APPLIED);
        assertThat(CrossSiteMerge.merge(update, atTokyo).kind()).isEqualTo(CrossSiteMerge.Kind.ALREADY_INCLUDED);
        SiteState concurrent = SiteState.write(atTokyo, "{\"a\":3}".getBytes(StandardCharsets.UTF_8), "tokyo", clock);
        assertThat(CrossSiteMerge.merge(update, concurrent).conflict()).isTrue();
    }

    /** What a site writes for a value from before sites: the earlier builds' form (a site that counts itself), read as shared. */
    @Test
    void theTimeZeroStampASiteWritesIsOneEarlierBuildsRead() {
        byte[] json = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        byte[] stamp = SiteState.timeZeroStamp("paris");
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(stamp);
        assertThat(in.get()).isEqualTo((byte) SiteState.STAMP_FORMAT);
        assertThat(in.getLong()).isZero();
        byte[] origin = new byte[in.get()];
        in.get(origin);
        assertThat(new String(origin, StandardCharsets.UTF_8)).isEqualTo("paris");
        // the earlier builds' rule: a vector counts the write of its origin
        assertThat(VersionVector.decode(in).get("paris")).isPositive();
        assertThat(SiteState.stamped(json, stamp)).isEqualTo(SiteState.unstamped(json));
    }
}
