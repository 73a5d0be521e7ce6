package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;

import javax.crypto.spec.SecretKeySpec;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

/**
 * A child JVM that ships one site to others until it is killed, for {@link ThreeZooKeeperSitesTest}:
 * {@code <root> <key hex> <local site> <local registry URI> <target site>=<target registry URI>...}.
 * Prints {@code ready} once every shipper runs.
 */
final class ShipperProcess {

    private ShipperProcess() {
    }

    public static void main(String[] args) throws InterruptedException {
        StorageLayout layout = new StorageLayout(RegistryPath.of(args[0]));
        KeyRing keys = KeyRing.of(Map.of("k1", new SecretKeySpec(HexFormat.of().parseHex(args[1]), "AES")), "k1");
        String site = args[2];
        ClusterRegistry local = ClusterRegistries.open(args[3]);
        EntityStates states = ThreeZooKeeperSitesTest.states(layout, keys, site);
        HybridClock clock = new HybridClock(System::currentTimeMillis, ThreeZooKeeperSitesTest.MAX_SKEW);
        for (int i = 4; i < args.length; i++) {
            String targetSite = args[i].substring(0, args[i].indexOf('='));
            ClusterRegistry target = ClusterRegistries.open(args[i].substring(args[i].indexOf('=') + 1));
            SiteTranslator t = new SiteTranslator(states, target, ThreeZooKeeperSitesTest.states(layout, keys, targetSite), clock, c -> { });
            new SiteShipper(local, layout.root(), site, target, targetSite, ThreeZooKeeperSitesTest.LEDGER, t, Duration.ZERO,
                    Duration.ofMillis(20), Duration.ofSeconds(30));
        }
        System.out.println("ready");
        System.out.flush();
        Thread.currentThread().join(); // until killed
    }

    static String keyHex(KeyRing keys) {
        return HexFormat.of().formatHex(keys.key("k1").getEncoded());
    }

}
