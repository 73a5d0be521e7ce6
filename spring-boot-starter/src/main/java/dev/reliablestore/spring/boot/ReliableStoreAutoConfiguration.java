package dev.reliablestore.spring.boot;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Opens one {@link StoreFactory} from the {@code reliablestore.*} properties and closes it with the
 * context. Applications take their stores from it, e.g.
 * {@code @Bean EntityStore<Customer> customers(StoreFactory f) { return f.store(Customer.class); }}.
 * An application that defines its own {@code StoreFactory} bean (a built configuration with hooks or
 * resolvers, a registry it owns) replaces this one.
 */
@AutoConfiguration
@EnableConfigurationProperties(ReliableStoreProperties.class)
public class ReliableStoreAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    StoreFactory reliableStoreFactory(ReliableStoreProperties properties) {
        return Persistence.openFactory(properties.getProvider(), properties.getOptions());
    }
}
