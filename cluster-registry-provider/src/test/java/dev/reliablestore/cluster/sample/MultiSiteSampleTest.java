package dev.reliablestore.cluster.sample;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The README's multi-site sample, kept here so it compiles and runs (the lines between the markers
 * are the README's block, de-indented), and a check that the README shows it unchanged.
 */
class MultiSiteSampleTest {

    record Customer(String name, String tier) {
    }

    @TempDir
    Path dir;

    @Test
    void twoSitesInOneProcess() {
        // --- multi-site start ---
        Map<String, String> paris = new HashMap<>(Map.of(
                "resourceGroupName", "App-RG",
                "registryKeyPath", "Software/App/Data",
                "sites.paris", "embedded:" + dir.resolve("paris"),   // in production: zookeeper://zk-paris-1:2181,…/app
                "sites.tokyo", "embedded:" + dir.resolve("tokyo"),   // and zookeeper://zk-tokyo-1:2181,…/app
                "localSite", "paris",
                "siteReplicationDelay", "100ms"));
        Map<String, String> tokyo = new HashMap<>(paris);
        tokyo.put("localSite", "tokyo");

        try (StoreFactory atParis = Persistence.openFactory("cluster-registry", paris);
             StoreFactory atTokyo = Persistence.openFactory("cluster-registry", tokyo)) {
            EntityStore<Customer> customersInParis = atParis.store(Customer.class);
            EntityStore<Customer> customersInTokyo = atTokyo.store(Customer.class);

            customersInParis.save("CUST-001", new Customer("Acme Corp", "PREMIUM"));
            // sites replicate asynchronously: Tokyo has it about siteReplicationDelay later
            await().atMost(Duration.ofSeconds(10)).until(() -> customersInTokyo.exists("CUST-001"));

            // each site keeps its own versions; a conditional save uses the version read at that site
            Versioned<Customer> read = customersInTokyo.get("CUST-001").orElseThrow();
            customersInTokyo.save("CUST-001", new Customer("Acme Corp", "ENTERPRISE"), read.version());
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    customersInParis.get("CUST-001").orElseThrow().value().tier().equals("ENTERPRISE"));
        }
        // --- multi-site end ---
    }

    @Test
    void theReadmeShowsTheSample() throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/reliablestore/cluster/sample/MultiSiteSampleTest.java"));
        Matcher m = Pattern.compile("// --- multi-site start ---\\n(.*?)\\n\\s*// --- multi-site end ---", Pattern.DOTALL).matcher(source);
        assertThat(m.find()).isTrue();
        String[] lines = m.group(1).split("\n");
        int indent = lines[0].length() - lines[0].stripLeading().length();
        StringBuilder sample = new StringBuilder();
        for (String line : lines) {
            sample.append(line.length() >= indent ? line.substring(indent) : line.strip()).append('\n');
        }
        assertThat(Files.readString(Path.of("..", "README.md"))).contains(sample.toString());
    }
}
