package dev.reliablestore.cli;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cli.InProcessCli.Run;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static dev.reliablestore.cli.InProcessCli.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code sites status} on two ZooKeeper sites (chroots of one server) that shipped to each other:
 * every pair up to date; and against a third, empty site standing in for one restored from nothing,
 * the batches waiting for it and since when, until {@code sites resync} repairs it from paris; and
 * {@code sites conflicts} lists the record paris keeps of a conflict it settled.
 */
class SitesStatusTest {

    record Parcel(String label, long grams) {
    }

    @Test
    void showsEachPairUpToDateOrWhatWaitsAndResyncRepairs() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true)) { // a free port chosen at run time
            String server = "zookeeper://127.0.0.1:" + zookeeper.getPort();
            String paris = server + "/paris?acl=open";
            String tokyo = server + "/tokyo?acl=open";
            String empty = server + "/empty?acl=open";
            Map<String, String> options = new HashMap<>(Map.of("resourceGroupName", "RG", "registryKeyPath", "Data",
                    "sites.paris", paris, "sites.tokyo", tokyo, "siteReplicationDelay", "0ms", "crossSiteConflicts", "ConflictRecord"));
            options.put("localSite", "paris");
            Map<String, String> atTokyo = new HashMap<>(options);
            atTokyo.put("localSite", "tokyo");
            // x written at each site while it ships to a stand-in for the other: a conflict once they meet, tokyo's later
            Map<String, String> parisAlone = new HashMap<>(options);
            parisAlone.put("sites.tokyo", server + "/stand-in-tokyo?acl=open");
            try (StoreFactory p = Persistence.openFactory("cluster-registry", parisAlone)) {
                p.store(Parcel.class).save("x", new Parcel("from paris", 1));
            }
            long parisWrote = System.currentTimeMillis();
            await().pollInterval(Duration.ofMillis(1)).until(() -> System.currentTimeMillis() > parisWrote);
            Map<String, String> tokyoAlone = new HashMap<>(atTokyo);
            tokyoAlone.put("sites.paris", server + "/stand-in-paris?acl=open");
            try (StoreFactory t = Persistence.openFactory("cluster-registry", tokyoAlone)) {
                t.store(Parcel.class).save("x", new Parcel("from tokyo", 2));
            }
            try (StoreFactory p = Persistence.openFactory("cluster-registry", options);
                 StoreFactory t = Persistence.openFactory("cluster-registry", atTokyo)) {
                EntityStore<Parcel> inParis = p.store(Parcel.class);
                EntityStore<Parcel> inTokyo = t.store(Parcel.class);
                inParis.save("p1", new Parcel("books", 1200));
                inParis.save("p2", new Parcel("tea", 250));
                inTokyo.save("t1", new Parcel("maps", 90));
                await().atMost(Duration.ofSeconds(30)).until(() -> inTokyo.count() == 4 && inParis.count() == 4
                        && inParis.get("x").orElseThrow().value().label().equals("from tokyo"));
            }

            Run upToDate = run("sites", "status", "--site", "paris=" + paris, "--site", "tokyo=" + tokyo,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(upToDate.exitCode()).as(upToDate.toString()).isZero();
            assertThat(upToDate.out()).contains("paris -> tokyo: up to date").contains("tokyo -> paris: up to date");

            Run behind = run("sites", "status", "--site", "paris=" + paris, "--site", "tokyo=" + empty,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(behind.exitCode()).as(behind.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(behind.out()).containsPattern("paris -> tokyo: [0-9]+ batch\\(es\\) waiting, oldest written 20")
                    .contains("applied up to 0 of ").contains("tokyo -> paris: up to date");

            // a root no site holds a store at (a mistyped --key-path): refused, and nothing is written there
            Run typo = run("sites", "status", "--site", "paris=" + paris, "--site", "tokyo=" + tokyo,
                    "--resource-group", "RG", "--key-path", "Typo");
            assertThat(typo.exitCode()).as(typo.toString()).isEqualTo(ExitCodes.FAILED);
            assertThat(typo.err()).contains("no site holds a store at RG").contains("nothing was written");
            try (dev.reliablestore.registry.ClusterRegistry r = dev.reliablestore.registry.ClusterRegistries.open(paris)) {
                assertThat(r.keyExists(dev.reliablestore.registry.RegistryPath.of("RG", "Typo"))).as("nothing written at the typo").isFalse();
            }

            // the empty site repaired from paris: everything paris holds (its own and tokyo's shipped write), then up to date
            Run unknownPolicy = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + paris, "--site",
                    "tokyo=" + empty, "--resource-group", "RG", "--key-path", "Data", "--cross-site-conflicts", "Newest");
            assertThat(unknownPolicy.exitCode()).as(unknownPolicy.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(unknownPolicy.err()).contains("'Newest' is not a cross-site conflict policy");
            Run tooYoung = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + paris, "--site",
                    "tokyo=" + empty, "--resource-group", "RG", "--key-path", "Data", "--cross-site-conflicts", "ConflictRecord",
                    "--remove-stale-older-than", "30s");
            assertThat(tooYoung.exitCode()).as(tooYoung.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(tooYoung.err()).contains("--remove-stale-older-than is PT30S; it must be at least");
            Run skewTooLarge = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + paris, "--site",
                    "tokyo=" + empty, "--resource-group", "RG", "--key-path", "Data", "--cross-site-conflicts", "ConflictRecord",
                    "--max-clock-skew", "2h");
            assertThat(skewTooLarge.exitCode()).as(skewTooLarge.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(skewTooLarge.err()).contains("--max-clock-skew is PT2H; a store's maxClockSkew is 100ms..1h");
            // a --from that holds no store (a wrong chroot here) is refused, and nothing is created there
            String nowhere = server + "/nowhere?acl=open";
            Run fromNothing = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + nowhere, "--site",
                    "tokyo=" + tokyo, "--resource-group", "RG", "--key-path", "Data", "--cross-site-conflicts", "ConflictRecord",
                    "--remove-stale-older-than", "1d");
            assertThat(fromNothing.exitCode()).as(fromNothing.toString()).isEqualTo(ExitCodes.FAILED);
            assertThat(fromNothing.err()).contains("nothing to resync from: site paris (" + nowhere + ") holds no store at RG");
            Run stillNothing = run("status", "--store", nowhere, "--resource-group", "RG", "--key-path", "Data");
            assertThat(stillNothing.out()).as(stillNothing.toString()).contains("layout:    none (nothing stored under this root yet)");
            Run resync;
            StoreFactory leaseHolder = Persistence.openFactory("cluster-registry", options);
            try {
                resync = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + paris, "--site", "tokyo=" + empty,
                        "--resource-group", "RG", "--key-path", "Data", "--cross-site-conflicts", "ConflictRecord", "--remove-stale-older-than", "1d",
                        "--max-clock-skew", "1m");
                // paris's lease holder recorded its settings: a resync with another skew is refused before it writes
                assertThat(resync.exitCode()).as(resync.toString()).isEqualTo(ExitCodes.FAILED);
                assertThat(resync.err()).contains("maxClockSkew=PT1M", "site paris runs with", "maxClockSkew=PT5S");
                resync = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + paris, "--site", "tokyo=" + empty,
                        "--resource-group", "RG", "--key-path", "Data", "--cross-site-conflicts", "ConflictRecord", "--remove-stale-older-than", "1d",
                        "--max-clock-skew", "5s");
            } finally {
                leaseHolder.close();
            }
            assertThat(resync.exitCode()).as(resync.toString()).isZero();
            // paris's factory holds its shipper lease and hashes paris where it is; the empty site has none open: the tool reads it
            assertThat(resync.out()).matches("resynced tokyo from paris: compared 4 entities, [1-4] id range\\(s\\) differed, fetched 4, "
                    + "changed 4 at tokyo, removed 0 of 0 stale; tokyo's checkpoint for paris is [0-9]+; range hashes of paris by its "
                    + "shipper-lease holder, of tokyo read here\\R");
            Run repaired = run("sites", "status", "--site", "paris=" + paris, "--site", "tokyo=" + empty,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(repaired.exitCode()).as(repaired.toString()).isZero();
            assertThat(repaired.out()).contains("paris -> tokyo: up to date");

            Run json = run("sites", "status", "--json", "--site", "paris=" + paris, "--site", "tokyo=" + tokyo,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(json.exitCode()).as(json.toString()).isZero();
            assertThat(json.out().lines()).hasSize(2).allSatisfy(line -> assertThat(line).contains("\"healthy\":true").contains("\"waiting\":0"));

            // paris settled the conflict on x when tokyo's write arrived, and kept paris's losing write
            Run conflicts = run("sites", "conflicts", "--site", "paris=" + paris, "--type", "Parcel", "--resource-group", "RG", "--key-path", "Data");
            assertThat(conflicts.exitCode()).as(conflicts.toString()).isZero();
            assertThat(conflicts.out().lines()).singleElement().satisfies(line -> assertThat(line).contains("Parcel/x at paris: kept the write of tokyo")
                    .contains("lost the write of paris").contains("from paris"));
            Run conflictsJson = run("sites", "conflicts", "--json", "--site", "paris=" + paris, "--type", "Parcel", "--resource-group", "RG",
                    "--key-path", "Data");
            assertThat(conflictsJson.out()).contains("\"id\":\"x\"").contains("\"deleted\":false");
            Run none = run("sites", "conflicts", "--site", "paris=" + paris, "--type", "Other", "--resource-group", "RG", "--key-path", "Data");
            assertThat(none.exitCode()).as(none.toString()).isZero();
            assertThat(none.out()).isEmpty();

            Run one = run("sites", "status", "--site", "paris=" + paris);
            assertThat(one.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(one.err()).contains("at least two");
        }
    }
}
