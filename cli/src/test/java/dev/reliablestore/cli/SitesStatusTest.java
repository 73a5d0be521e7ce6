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
 * the batches waiting for it and since when, until {@code sites resync} repairs it from paris.
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
                    "sites.paris", paris, "sites.tokyo", tokyo, "siteReplicationDelay", "0ms"));
            options.put("localSite", "paris");
            Map<String, String> atTokyo = new HashMap<>(options);
            atTokyo.put("localSite", "tokyo");
            try (StoreFactory p = Persistence.openFactory("cluster-registry", options);
                 StoreFactory t = Persistence.openFactory("cluster-registry", atTokyo)) {
                EntityStore<Parcel> inParis = p.store(Parcel.class);
                EntityStore<Parcel> inTokyo = t.store(Parcel.class);
                inParis.save("p1", new Parcel("books", 1200));
                inParis.save("p2", new Parcel("tea", 250));
                inTokyo.save("t1", new Parcel("maps", 90));
                await().atMost(Duration.ofSeconds(30)).until(() -> inTokyo.count() == 3 && inParis.count() == 3);
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

            // the empty site repaired from paris: everything paris holds (its own and tokyo's shipped write), then up to date
            Run resync = run("sites", "resync", "--from", "paris", "--to", "tokyo", "--site", "paris=" + paris, "--site", "tokyo=" + empty,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(resync.exitCode()).as(resync.toString()).isZero();
            assertThat(resync.out()).startsWith("resynced tokyo from paris: compared 3 entities, changed 3 at tokyo; tokyo's checkpoint for paris is ");
            Run repaired = run("sites", "status", "--site", "paris=" + paris, "--site", "tokyo=" + empty,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(repaired.exitCode()).as(repaired.toString()).isZero();
            assertThat(repaired.out()).contains("paris -> tokyo: up to date");

            Run json = run("sites", "status", "--json", "--site", "paris=" + paris, "--site", "tokyo=" + tokyo,
                    "--resource-group", "RG", "--key-path", "Data");
            assertThat(json.exitCode()).as(json.toString()).isZero();
            assertThat(json.out().lines()).hasSize(2).allSatisfy(line -> assertThat(line).contains("\"healthy\":true").contains("\"waiting\":0"));

            Run one = run("sites", "status", "--site", "paris=" + paris);
            assertThat(one.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(one.err()).contains("at least two");
        }
    }
}
