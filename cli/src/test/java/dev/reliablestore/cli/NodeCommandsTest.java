package dev.reliablestore.cli;

import dev.reliablestore.cli.InProcessCli.Run;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static dev.reliablestore.cli.InProcessCli.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code failover}, {@code drain} and {@code resume} against a real ZooKeeper server whose nodes are
 * two registries of this JVM (the applications); the tool's own connection never takes the role.
 */
class NodeCommandsTest {

    @TempDir
    Path dir;

    private static void awaitPrimary(ClusterRegistry view, String node) {
        await().atMost(Duration.ofSeconds(20)).until(() -> view.status().primary().equals(Optional.of(node)));
    }

    @Test
    void failoverDrainAndResumeMoveThePrimaryAndRefusalsNameTheReason() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true)) { // a free port chosen at run time
            nodeCommandsOn("zookeeper://127.0.0.1:" + zookeeper.getPort() + "/node-commands?acl=open");
        }
    }

    private static void nodeCommandsOn(String store) throws Exception {
        try (ClusterRegistry app1 = ClusterRegistries.open(store, Map.of("nodeName", "app-1"));
             ClusterRegistry app2 = ClusterRegistries.open(store, Map.of("nodeName", "app-2"))) {
            awaitPrimary(app2, "app-1");

            Run failover = run("failover", "--store", store, "--to", "app-2");
            assertThat(failover.exitCode()).as(failover.toString()).isZero();
            assertThat(failover.out()).startsWith("primary is now app-2 (validated: up, not drained, healthy, caught up)");
            awaitPrimary(app1, "app-2");

            Run unknown = run("failover", "--store", store, "--to", "app-9");
            assertThat(unknown.exitCode()).as(unknown.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(unknown.err()).startsWith("error: failover refused (UNKNOWN_NODE): node app-9 is not known to the cluster (live: [");

            Run drain = run("drain", "--store", store, "app-2");
            assertThat(drain.exitCode()).as(drain.toString()).isZero();
            assertThat(drain.out()).startsWith("drained app-2; primary is app-1; 'resume app-2' lets it take the role again");
            assertThat(app1.status().nodes()).contains(new NodeInfo("app-2", NodeState.PAUSED));
            Run toDrained = run("failover", "--store", store, "--to", "app-2");
            assertThat(toDrained.exitCode()).as(toDrained.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(toDrained.err()).contains("failover refused (DRAINED): node app-2 is drained; resume it first");
            // app-1 is the only candidate left: the tool's connection does not count
            Run noTarget = run("drain", "--store", store, "app-1");
            assertThat(noTarget.exitCode()).as(noTarget.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(noTarget.err()).contains("drain refused (NO_TARGET)");

            Run resume = run("resume", "--store", store, "app-2");
            assertThat(resume.exitCode()).as(resume.toString()).isZero();
            assertThat(resume.out()).startsWith("resumed app-2; primary is app-1");
            Run again = run("resume", "--store", store, "app-2");
            assertThat(again.exitCode()).as(again.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(again.err()).contains("resume refused (NOT_DRAINED)");

            Run toAny = run("failover", "--store", store, "--json");
            assertThat(toAny.exitCode()).as(toAny.toString()).isZero();
            assertThat(Json.MAPPER.readTree(toAny.out()).get("movedTo").asText()).isEqualTo("app-2");
            awaitPrimary(app1, "app-2");
            Run drainJson = run("drain", "--store", store, "app-1", "--json");
            assertThat(drainJson.exitCode()).as(drainJson.toString()).isZero();
            assertThat(Json.MAPPER.readTree(drainJson.out())).isEqualTo(Json.MAPPER.readTree("{\"drained\":\"app-1\",\"primary\":\"app-2\"}"));
            Run resumeJson = run("resume", "--store", store, "app-1", "--json");
            assertThat(resumeJson.exitCode()).as(resumeJson.toString()).isZero();
            assertThat(Json.MAPPER.readTree(resumeJson.out())).isEqualTo(Json.MAPPER.readTree("{\"resumed\":\"app-1\",\"primary\":\"app-2\"}"));
        }
    }

    @Test
    void anEmbeddedStoreHasOneNodeAndAFileStoreNone() throws Exception {
        String embedded = "embedded:" + java.nio.file.Files.createDirectories(dir.resolve("store"));
        Run failover = run("failover", "--store", embedded);
        assertThat(failover.exitCode()).as(failover.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(failover.err()).contains("failover refused (UNSUPPORTED): the embedded registry").contains("is one node");
        Run file = run("drain", "--store", "file:" + java.nio.file.Files.createDirectories(dir.resolve("files")), "n1");
        assertThat(file.exitCode()).as(file.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(file.err()).contains("drain needs a cluster-registry store");
    }
}
