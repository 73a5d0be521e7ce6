package dev.reliablestore.spring.data;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Import;

import dev.reliablestore.api.StoreFactory;

/**
 * Spring Boot finds ReliableStore repositories under the application's auto-configuration packages
 * (those of the {@code @SpringBootApplication} class), as Boot does for its own Spring Data modules,
 * when the context has a {@link StoreFactory}. Backs off when a configuration class carries
 * {@link EnableReliableStoreRepositories} or {@code reliablestore.repositories.enabled=false}.
 */
@AutoConfiguration(afterName = "dev.reliablestore.spring.boot.ReliableStoreAutoConfiguration")
@ConditionalOnClass(EnableReliableStoreRepositories.class)
@ConditionalOnBean(StoreFactory.class)
@ConditionalOnMissingBean(annotation = EnableReliableStoreRepositories.class)
@ConditionalOnProperty(prefix = "reliablestore.repositories", name = "enabled", matchIfMissing = true)
@Import(AutoConfiguredRepositoriesRegistrar.class)
public class ReliableStoreRepositoriesAutoConfiguration {
}
