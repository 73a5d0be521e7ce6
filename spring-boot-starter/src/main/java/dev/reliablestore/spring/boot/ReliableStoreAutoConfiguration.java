package dev.reliablestore.spring.boot;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySources;

/**
 * Opens one {@link StoreFactory} from the {@code reliablestore.*} properties and closes it with the
 * context. Applications declare their stores as beans, e.g.
 * {@code @Bean EntityStore<Customer> customers(StoreFactory f) { return f.store(Customer.class); }}:
 * the events of those beans are republished as Spring application events ({@code @EventListener
 * void on(StoreEvent.HealthCheckFailed e)}), feed the {@code reliableStore} health indicator (with
 * Actuator) and get the {@code reliablestore.store.*} meters (with Micrometer). An application that
 * defines its own {@code StoreFactory} bean (a built configuration with hooks or resolvers, a
 * registry it owns) replaces the auto-configured one.
 */
@AutoConfiguration
@EnableConfigurationProperties(ReliableStoreProperties.class)
public class ReliableStoreAutoConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(ReliableStoreAutoConfiguration.class);

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    StoreFactory reliableStoreFactory(ReliableStoreProperties properties, Environment environment) {
        PropertySources sources = new MutablePropertySources();
        if (environment instanceof ConfigurableEnvironment configurable) {
            sources = configurable.getPropertySources();
            OptionKeys.lossyKeys(sources).forEach(LOG::warn);
        }
        return Persistence.openFactory(properties.getProvider(), OptionKeys.resolve(properties.getProvider(), properties.getOptions(), sources));
    }

    @Bean
    StoreEventBridge reliableStoreEventBridge() {
        return new StoreEventBridge();
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    static class HealthConfiguration {

        /** Nested so that its condition, an Actuator class, is read only when Actuator is there. */
        @Configuration(proxyBeanMethods = false)
        @ConditionalOnEnabledHealthIndicator("reliablestore")
        static class Enabled {

            @Bean
            @ConditionalOnMissingBean(name = "reliableStoreHealthIndicator")
            @org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate(StoreFactory.class)
            HealthIndicator reliableStoreHealthIndicator(StoreFactory factory, StoreEventBridge events) {
                return new StoreHealthIndicator(factory, events);
            }
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    static class MetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "reliableStoreMeters")
        MeterBinder reliableStoreMeters(ListableBeanFactory beans, ObjectProvider<StoreFactory> factories) {
            return new StoreMeters(beans, factories);
        }
    }
}
