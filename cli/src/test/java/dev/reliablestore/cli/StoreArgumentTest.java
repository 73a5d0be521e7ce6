package dev.reliablestore.cli;

import dev.reliablestore.cli.InProcessCli.Run;
import org.junit.jupiter.api.Test;

import static dev.reliablestore.cli.InProcessCli.run;
import static org.assertj.core.api.Assertions.assertThat;

/** A malformed {@code --store} is refused before anything connects, and its error never echoes a password. */
class StoreArgumentTest {

    @Test
    void aMistypedZooKeeperStoreIsRefusedWithoutItsPassword() {
        for (String store : new String[] {"zookeeper:/app:s3cr3t@127.0.0.1:1/x", "zookeeper:app:s3cr3t@127.0.0.1:1/x",
                "zookeper://app:s3cr3t@127.0.0.1:1/x"}) {
            Run refused = run("status", "--store", store);
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(refused.err()).as(store).contains("***@127.0.0.1:1/x");
            assertThat(refused.out() + refused.err()).as(store).doesNotContain("s3cr3t");
        }
    }

    @Test
    void aStoreQueryThatIsNotKeyValueOrGivesAnOptionTwiceIsAUsageErrorThatShowsNoSecret() {
        // "digest:" for "digest=": the pair is not key=value, and might be a credential
        Run typo = run("status", "--store", "zookeeper://127.0.0.1:1/x?digest:app:s3cr3t");
        assertThat(typo.exitCode()).as(typo.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(typo.err()).contains("is not key=value").contains("x?***");
        assertThat(typo.out() + typo.err()).doesNotContain("s3cr3t");

        Run twice = run("status", "--store", "zookeeper://127.0.0.1:1/x?sessionTimeout=1s&sessionTimeout=60s");
        assertThat(twice.exitCode()).as(twice.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(twice.err()).contains("option \"sessionTimeout\" is given twice");
    }
}
