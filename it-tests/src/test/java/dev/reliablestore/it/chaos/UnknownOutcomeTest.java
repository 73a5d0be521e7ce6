package dev.reliablestore.it.chaos;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.it.history.History;
import dev.reliablestore.it.history.LinearizabilityChecker;
import dev.reliablestore.it.history.Op;
import dev.reliablestore.it.history.Register;
import dev.reliablestore.it.history.RegisterClient;
import dev.reliablestore.it.history.Workload;
import dev.reliablestore.it.chaos.GatedRegistry.CommitFault;
import dev.reliablestore.registry.ClusterRegistries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a client is told when a save's attempts fail with a lost connection: the
 * {@code StoreUnavailableException} contract says the operation did not take effect unless the
 * exception says the outcome is unknown ({@code outcomeUnknown()}). Connection losses are scripted with a {@link GatedRegistry}.
 */
class UnknownOutcomeTest {

    @TempDir
    Path dir;
    private GatedRegistry registry;
    private StoreFactory factory;
    private final History history = new History();

    @BeforeEach
    void open() {
        registry = new GatedRegistry(ClusterRegistries.open("embedded:" + dir.resolve("registry")));
        factory = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName(registry.uri()).resourceGroupName("History-RG").registryKeyPath("Software/ReliableStore/History")
                .maxRetries(3).retryDelay(Duration.ofMillis(10)).build(), registry);
    }

    @AfterEach
    void close() {
        factory.close();
        registry.close();
    }

    private LinearizabilityChecker.Result saveWhoseAttemptsFail(CommitFault... faults) {
        RegisterClient c = new RegisterClient(0, factory.store(Register.class), history, new Workload.Counters(), 0,
                RegisterClient.Mix.DEFAULT);
        c.save("k");
        registry.failNextCommits(faults);
        c.save("k");
        c.read("k");
        history.ops().forEach(System.out::println);
        System.out.println("the save was answered with: " + history.ops().get(1).error);
        LinearizabilityChecker.Result r = new LinearizabilityChecker(LinearizabilityChecker.ReadModel.LINEARIZABLE).check(history);
        System.out.println(r.describe());
        return r;
    }

    @Test
    void aSaveWhoseLastAttemptLostItsAnswerSaysTheOutcomeIsUnknown() {
        LinearizabilityChecker.Result r = saveWhoseAttemptsFail(CommitFault.NOT_SENT, CommitFault.NOT_SENT, CommitFault.NOT_SENT,
                CommitFault.APPLIED_ANSWER_LOST);
        assertThat(history.ops().get(1).outcome).isEqualTo(Op.Outcome.UNKNOWN);
        assertThat(r.ok()).as(r.describe()).isTrue();
    }

    @Test
    // was a defect: only the last attempt's lost answer was reported (docs/reliability.md, defect 3)
    void aSaveWhoseEarlierAttemptLostItsAnswerSaysTheOutcomeIsUnknown() {
        LinearizabilityChecker.Result r = saveWhoseAttemptsFail(CommitFault.APPLIED_ANSWER_LOST, CommitFault.NOT_SENT,
                CommitFault.NOT_SENT, CommitFault.NOT_SENT);
        assertThat(history.ops().get(1).outcome).isEqualTo(Op.Outcome.UNKNOWN);
        assertThat(history.ops().get(1).error).contains("the outcome of write attempt 1 is unknown");
        assertThat(r.ok()).as(r.describe()).isTrue();
    }
}
