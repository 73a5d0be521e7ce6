package dev.reliablestore.examples.shop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;

/**
 * The shop's health indicator goes DOWN when its registry closes. The test holds the registry (so
 * it can close it) and opens the shop's factory over it; everything else is the application's.
 */
@SpringBootTest
@DirtiesContext
class ShopHealthTest {

    static final Path DIR = TestDirs.create("shop-health-test");

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDirs.register(registry, DIR);
    }

    @TestConfiguration(proxyBeanMethods = false)
    static class HeldRegistry {
        @Bean(destroyMethod = "close")
        ClusterRegistry registry() {
            return ClusterRegistries.open("embedded:" + DIR.resolve("registry"));
        }

        @Bean(destroyMethod = "close")
        StoreFactory storeFactory(ClusterRegistry registry) {
            return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(registry.uri())
                    .resourceGroupName("Shop-RG").registryKeyPath("Software/Shop").healthCheckInterval(Duration.ofMillis(100)).build(), registry);
        }
    }

    @Autowired
    ClusterRegistry registry;
    @Autowired
    @Qualifier("reliableStoreHealthIndicator")
    HealthIndicator health;
    @Autowired
    Customers customers;

    @Test
    void healthIsUpThenDownOnceTheRegistryIsClosed() {
        assertThat(customers.findById(ShopRunner.DEMO_CUSTOMER)).isPresent();
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
        registry.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> health.health().getStatus().equals(Status.DOWN));
        assertThat(health.health().getDetails().get("reason")).asString().contains(registry.uri());
    }
}
