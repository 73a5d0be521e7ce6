package dev.reliablestore.registry;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What messages and logs show of a registry URI: never a secret option's value or user information. */
class ClusterRegistriesRedactTest {

    @Test
    void secretOptionValuesAndUserInformationAreHidden() {
        assertThat(ClusterRegistries.redact("zookeeper://h1:2181,h2:2181/app?digest=app:s3cr3t&sessionTimeout=10s"))
                .isEqualTo("zookeeper://h1:2181,h2:2181/app?digest=***&sessionTimeout=10s");
        assertThat(ClusterRegistries.redact("zookeeper://h:1/app?tls=true&tlsKeyStorePassword=s3cr3t&TLSTRUSTSTOREPASSWORD=s3cr3t"))
                .isEqualTo("zookeeper://h:1/app?tls=true&tlsKeyStorePassword=***&TLSTRUSTSTOREPASSWORD=***");
        assertThat(ClusterRegistries.redact("zookeeper://app:s3cr3t@h:1/app")).isEqualTo("zookeeper://***@h:1/app");
        assertThat(ClusterRegistries.redact("zookeeper://h:1/app?%64igest=s3cr3t")).isEqualTo("zookeeper://h:1/app?%64igest=***");
        assertThat(ClusterRegistries.redact("zookeeper://h:1/app?%zz=s3cr3t")).as("an undecodable key").doesNotContain("s3cr3t");
        assertThat(ClusterRegistries.redact("embedded:/var/lib/rs/data")).isEqualTo("embedded:/var/lib/rs/data");
        assertThat(ClusterRegistries.redact("embedded:/data/with@sign")).isEqualTo("embedded:/data/with@sign");
    }

    @Test
    void userInformationIsHiddenHoweverManySlashesFollowTheScheme() {
        assertThat(ClusterRegistries.redact("zookeeper:/app:s3cr3t@h:1/app")).isEqualTo("zookeeper:/***@h:1/app");
        assertThat(ClusterRegistries.redact("zookeeper:app:s3cr3t@h:1/app")).isEqualTo("zookeeper:***@h:1/app");
        assertThat(ClusterRegistries.redact("zookeeper:///app:s3cr3t@h:1")).isEqualTo("zookeeper:///***@h:1");
        assertThat(ClusterRegistries.redact("app:s3cr3t@h:1/app")).as("no scheme: the first colon is taken for one")
                .doesNotContain("s3cr3t");
    }

    @Test
    void aUriThatCannotBeOpenedIsNamedWithoutItsSecrets() {
        assertThatThrownBy(() -> ClusterRegistries.open("zookeeper://h:1/a b?digest=app:s3cr3t", Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("digest=***").hasMessageNotContaining("s3cr3t");
        assertThatThrownBy(() -> ClusterRegistries.open("nosuch://h/x?digest=app:s3cr3t", Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("nosuch").hasMessageNotContaining("s3cr3t");
    }
}
