package dev.reliablestore.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterHooks;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Health, events and meters from real contexts over an embedded registry the test holds, so that it
 * can close the registry under the factory or make the host's health check fail.
 */
class StoreHealthAndEventsTest {

    /** The host's verdict read by the factory's health check (ClusterHooks.unhealthyReason). */
    static final AtomicReference<String> PROBLEM = new AtomicReference<>();

    @TempDir
    Path dir;

    private ApplicationContextRunner runner(ClusterRegistry registry) {
        PROBLEM.set(null);
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                .withBean(ClusterRegistry.class, () -> registry)
                .withUserConfiguration(Application.class);
    }

    @Configuration(proxyBeanMethods = false)
    static class Application {
        final List<StoreEvent> events = new CopyOnWriteArrayList<>();

        @Bean(destroyMethod = "close")
        StoreFactory storeFactory(ClusterRegistry registry) {
            ClusterHooks hooks = new ClusterHooks() {
                @Override
                public Optional<String> unhealthyReason() {
                    return Optional.ofNullable(PROBLEM.get());
                }
            };
            return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(registry.uri())
                    .resourceGroupName("RG").registryKeyPath("Software/App").healthCheckInterval(Duration.ofMillis(50)).hooks(hooks)
                    .build(), registry);
        }

        @Bean
        EntityStore<Customer> customers(StoreFactory factory) {
            return factory.store(Customer.class);
        }

        @EventListener
        void on(StoreEvent event) {
            events.add(event);
        }
    }

    private static Health health(org.springframework.context.ApplicationContext context) {
        return context.getBean("reliableStoreHealthIndicator", HealthIndicator.class).health();
    }

    @Test
    void healthIsUpThenDownWhileTheHostsCheckFailsAndUpAgainWithEventsRepublished() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).run(context -> {
                assertThat(health(context).getStatus()).isEqualTo(Status.UP);
                assertThat(health(context).getDetails()).containsEntry("provider", "cluster-registry").containsEntry("observedStores", 1)
                        .containsEntry("backend", registry.status().backend()).containsEntry("localNode", registry.status().localNode())
                        .containsEntry("primary", registry.status().primary().orElse("none"))
                        .containsEntry("nodes", java.util.Map.of(registry.status().localNode(), "UP"));

                PROBLEM.set("disk of node 1 is failing");
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.DOWN));
                assertThat(health(context).getDetails().get("reason")).asString().contains("disk of node 1 is failing");
                List<StoreEvent> events = context.getBean(Application.class).events;
                assertThat(events).hasAtLeastOneElementOfType(StoreEvent.HealthCheckFailed.class);

                PROBLEM.set(null);
                await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getStatus().equals(Status.UP));
                assertThat(events).hasAtLeastOneElementOfType(StoreEvent.HealthRestored.class);
                // one listener per store bean: each cluster-wide event is republished once
                assertThat(events).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).hasSize(1);
            });
        }
    }

    @Test
    void healthIsDownWhenTheRegistryIsClosed() {
        ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
        runner(registry).run(context -> {
            context.getBean(StoreFactory.class).store(Customer.class).save("c1", new Customer("Acme", 1));
            assertThat(health(context).getStatus()).isEqualTo(Status.UP);
            registry.close();
            // DOWN at once (the status read fails), then with the health check's own reason once it ran
            assertThat(health(context).getStatus()).isEqualTo(Status.DOWN);
            assertThat(health(context).getDetails().get("reason")).asString().contains(dir.resolve("registry").toString()).contains("closed");
            await().atMost(Duration.ofSeconds(10)).until(() -> health(context).getDetails().containsKey("since"));
            assertThat(health(context).getStatus()).isEqualTo(Status.DOWN);
            assertThat(health(context).getDetails().get("reason")).asString().contains(registry.uri());
        });
    }

    @Test
    void withoutStoreBeansHealthIsUnknownNotUp() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                    .withBean(ClusterRegistry.class, () -> registry)
                    .withBean(StoreFactory.class, () -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                            .clusterName(registry.uri()).resourceGroupName("RG").registryKeyPath("Software/App").build(), registry))
                    .run(context -> assertThat(health(context).getStatus()).isEqualTo(Status.UNKNOWN));
        }
    }

    /** Several factories, none primary: no indicator (it reports one factory) instead of a context that fails to start. */
    @Test
    void twoStoreFactoriesWithoutAPrimaryGetNoIndicatorAndTheContextStarts() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class))
                    .withBean(ClusterRegistry.class, () -> registry)
                    .withBean("one", StoreFactory.class, () -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                            .clusterName(registry.uri()).resourceGroupName("RG").registryKeyPath("Software/One").build(), registry))
                    .withBean("two", StoreFactory.class, () -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                            .clusterName(registry.uri()).resourceGroupName("RG").registryKeyPath("Software/Two").build(), registry))
                    .run(context -> {
                        assertThat(context).hasNotFailed().doesNotHaveBean("reliableStoreHealthIndicator");
                        assertThat(context).getBeans(StoreFactory.class).hasSize(2);
                    });
        }
    }

    @Test
    void storeBeansGetTheProvidersMeters() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
                    .run(context -> {
                        @SuppressWarnings("unchecked") // the bean's type argument is erased at run time
                        EntityStore<Customer> customers = context.getBean(EntityStore.class);
                        customers.save("c1", new Customer("Acme", 1));
                        customers.save("c2", new Customer("Bolt", 2));
                        MeterRegistry meters = context.getBean(MeterRegistry.class);
                        assertThat(meters.get("reliablestore.store.writes").tag("type", "Customer").functionCounter().count()).isEqualTo(2);
                    });
        }
    }

    @Test
    void aFactoryWithSitesGetsTheSiteMeters() {
        sitesRunner(false).run(StoreHealthAndEventsTest::assertSiteMeters);
    }

    /** Under JTA the context's factory is the wrapper that enlists stores: the meters are the provider's beneath it. */
    @Test
    void aFactoryWithSitesGetsTheSiteMetersUnderJtaToo() {
        sitesRunner(true).run(StoreHealthAndEventsTest::assertSiteMeters);
    }

    private ApplicationContextRunner sitesRunner(boolean jta) {
        ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
                        ReliableStoreAutoConfiguration.class, MetricsAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class));
        if (jta) {
            runner = runner.withConfiguration(AutoConfigurations.of(ReliableStoreJtaAutoConfiguration.class,
                    org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration.class))
                    .withPropertyValues(SharedNarayana.properties());
        }
        return runner.withPropertyValues("reliablestore.options.resourceGroupName=RG", "reliablestore.options.registryKeyPath=Software/App",
                        "reliablestore.options.sites.paris=embedded:" + dir.resolve("paris"),
                        "reliablestore.options.sites.rome=embedded:" + dir.resolve("rome"),
                        "reliablestore.options.localSite=paris", "reliablestore.options.siteReplicationDelay=0ms");
    }

    private static void assertSiteMeters(org.springframework.boot.test.context.assertj.AssertableApplicationContext context) {
        assertThat(context).hasNotFailed();
        MeterRegistry meters = context.getBean(MeterRegistry.class);
        // paris holds its site's shipper lease (it is the only factory there) and reaches rome
        await().atMost(Duration.ofSeconds(30)).until(() -> meters.find("reliablestore.site.shipping").tag("site", "paris")
                .tag("target", "rome").gauge() != null
                && meters.get("reliablestore.site.shipping").tag("site", "paris").tag("target", "rome").gauge().value() == 1);
        assertThat(meters.get("reliablestore.site.replication.lag").tag("target", "rome").gauge()).isNotNull();
    }

    @Test
    void withoutActuatorAndMicrometerOnlyTheFactoryAndEventsAreConfigured() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate", "io.micrometer")).run(context -> {
                assertThat(context).hasNotFailed().hasSingleBean(StoreFactory.class).hasSingleBean(StoreEventBridge.class)
                        .doesNotHaveBean("reliableStoreHealthIndicator").doesNotHaveBean("reliableStoreMeters");
            });
        }
    }

    @Test
    void theHealthIndicatorIsSwitchedOffLikeActuatorsOwn() {
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"))) {
            runner(registry).withPropertyValues("management.health.reliablestore.enabled=false")
                    .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("reliableStoreHealthIndicator"));
        }
    }
}
