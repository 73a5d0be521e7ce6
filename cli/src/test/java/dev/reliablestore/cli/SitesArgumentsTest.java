package dev.reliablestore.cli;

import dev.reliablestore.cli.InProcessCli.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.reliablestore.cli.InProcessCli.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code sites} commands refuse, before they connect anywhere, what would leak or be ignored:
 * a secret written into a {@code --site} URI (as {@code --store} refuses it), and a registry option
 * that no site's backend takes.
 */
class SitesArgumentsTest {

    @TempDir
    Path dir;

    @Test
    void aSecretInASiteUriIsRefusedAndNeverEchoed() {
        String paris = "zookeeper://127.0.0.1:1/paris?digest=app:s3cr3t";
        for (String[] args : new String[][] {
                {"sites", "status", "--site", "paris=" + paris, "--site", "tokyo=embedded:" + dir.resolve("tokyo")},
                {"sites", "conflicts", "--site", "paris=" + paris, "--type", "Parcel"},
                // an opaque URI, for which java.net.URI parses no query
                {"sites", "status", "--site", "paris=embedded:./paris?digest=app:s3cr3t", "--site", "tokyo=embedded:" + dir.resolve("tokyo")},
                {"sites", "resync", "--from", "paris", "--to", "tokyo", "--cross-site-conflicts", "LastWriteWins", "--site", "paris=" + paris,
                        "--site", "tokyo=embedded:" + dir}}) {
            Run refused = run(args);
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(refused.err()).as(refused.toString()).contains("registry option digest is a secret").contains("--site paris")
                    .contains("--registry-secret-env digest=VAR");
            assertThat(refused.out() + refused.err()).doesNotContain("s3cr3t");
        }
    }

    @Test
    void aRegistryOptionNoSiteTakesIsRefused() {
        Run refused = run("sites", "status", "--site", "paris=embedded:" + dir.resolve("paris"), "--site",
                "tokyo=embedded:" + dir.resolve("tokyo"), "--registry-option", "sesionTimeout=10s");
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(refused.err()).contains("registry option sesionTimeout is not an option of any site's registry backend");
    }
}
