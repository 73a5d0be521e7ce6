package dev.reliablestore.registry;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one parser of registry URI queries: decoded options, and a typed error that shows no secret for a bad one. */
class ClusterRegistriesQueryTest {

    private static Map<String, String> query(String uri) {
        return ClusterRegistries.queryOptions(URI.create(uri));
    }

    @Test
    void optionsAreFormDecodedInTheirOrder() {
        assertThat(query("zookeeper://h:1/app?sessionTimeout=10s&digest=app:a%2Bb%26c+d&&acl=digest"))
                .containsExactly(Map.entry("sessionTimeout", "10s"), Map.entry("digest", "app:a+b&c d"), Map.entry("acl", "digest"));
        assertThat(query("zookeeper://h:1/app")).isEmpty();
        assertThat(query("zookeeper://h:1/app?")).isEmpty();
        assertThat(query("zookeeper://h:1/app?%64igest=x")).containsExactly(Map.entry("digest", "x"));
        assertThat(query("zookeeper://h:1/app?tls=")).containsExactly(Map.entry("tls", ""));
    }

    @Test
    void aMalformedEscapeIsATypedErrorThatDoesNotShowASecretValue() {
        // java.net.URI refuses it when the URI is parsed, before any option is decoded
        assertThatThrownBy(() -> ClusterRegistries.open("zookeeper://127.0.0.1:1/app?digest=app:s3%zzcr3t"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("malformed")
                .hasMessageNotContaining("s3").hasMessageNotContaining("cr3t");
    }

    @Test
    void aPairThatIsNotKeyValueIsRefusedWithoutShowingIt() {
        // a colon typed for '=': the pair might be a secret
        assertThatThrownBy(() -> query("zookeeper://h:1/app?tls=true&digest:app:s3cr3t"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("option 2").hasMessageContaining("is not key=value")
                .hasMessageNotContaining("s3cr3t");
        assertThat(ClusterRegistries.redact("zookeeper://h:1/app?tls=true&digest:app:s3cr3t&&x=1"))
                .isEqualTo("zookeeper://h:1/app?tls=true&***&&x=1");
        assertThatThrownBy(() -> query("zookeeper://h:1/app?=x")).isInstanceOf(RegistryArgumentException.class)
                .hasMessageContaining("option 1");
    }

    @Test
    void anOptionGivenTwiceIsRefusedRatherThanOneOfThemSilentlyWinning() {
        assertThatThrownBy(() -> query("zookeeper://h:1/app?sessionTimeout=1s&sessionTimeout=60s"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("option \"sessionTimeout\" is given twice");
        assertThatThrownBy(() -> query("zookeeper://h:1/app?digest=a:b&%64igest=a:c"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("given twice").hasMessageContaining("digest=***")
                .hasMessageNotContaining("a:b").hasMessageNotContaining("a:c");
    }

    @Test
    void openingAZooKeeperUriWithABadQueryFailsBeforeConnecting() {
        // port 1: nothing listens; the query's error comes first
        assertThatThrownBy(() -> ClusterRegistries.open("zookeeper://127.0.0.1:1/app?sessionTimeout=10s&sessionTimeout=1s"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("given twice");
        assertThat(ClusterRegistries.queryOptionNames("zookeeper://h:1/app?a=1&a=2")).as("does not parse: opening reports it").isEmpty();
        assertThat(ClusterRegistries.queryOptionNames("zookeeper://h:1/app?a=1&b=2")).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void anOpaqueUrisQueryIsParsedTooSoThatASecretInItIsSeen() {
        // java.net.URI gives an opaque URI no query: "embedded:./data?digest=…" was let through
        assertThat(query("embedded:./data?digest=app:s3cr3t")).containsExactly(Map.entry("digest", "app:s3cr3t"));
        assertThatThrownBy(() -> ClusterRegistries.open("embedded:./data?digest=app:s3cr3t"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("has a query").hasMessageNotContaining("s3cr3t");
    }

    @Test
    void aSecretRunIntoAnotherOptionsValueIsRefusedAndNeverShown() {
        // ';' for '&': the digest would be the value of tls, which an option's error message shows
        assertThatThrownBy(() -> query("zookeeper://h:1/app?tls=true;digest=app:s3cr3t"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("the value of option \"tls\"")
                .hasMessageContaining("separate options with '&'").hasMessageNotContaining("s3cr3t");
        assertThatThrownBy(() -> query("zookeeper://h:1/app?x=1;tlsKeyStorePassword=s3cr3t"))
                .isInstanceOf(RegistryArgumentException.class).hasMessageNotContaining("s3cr3t");
        assertThat(ClusterRegistries.redact("zookeeper://h:1/app?tls=true;digest=app:s3cr3t&Digest=s3cr3t&PASSWORD=s3cr3t&a=b=c&x=1"))
                .isEqualTo("zookeeper://h:1/app?tls=***&Digest=***&PASSWORD=***&a=***&x=1");
    }
}
