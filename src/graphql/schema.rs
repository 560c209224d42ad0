//! The one schema builder, used by the server, the tests and the SDL export, and the door every
//! request goes through.
//!
//! async-graphql runs the schema with no extension: with even one, every field and every list
//! item takes its slow path (a `ResolveInfo` with type-name lookups, a boxed future through each
//! extension's hook), which was a large share of the server's CPU per read. What extensions did
//! for a whole request is done here instead, once per request, for HTTP and WebSocket alike:
//! the document is parsed once into a [`PreparedRequest`] (checked against the field limit and
//! for control characters, its operation selected and named, its response order planned), the
//! request gets fresh loaders, and the response is put in the query's order. Mutation fields empty the loader caches through their root (`Mutation`).

use crate::graphql::budget::{CostAccount, CostBudgetExtension, CostBudgets, CostConfig, was_paid};
use std::sync::Arc;

use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::parser::types::OperationType;
use async_graphql::{
    Data, Executor, Request, Response, SDLExportOptions, Schema, SchemaBuilder, ServerError,
};
use sea_orm::DatabaseConnection;

use super::input_text::check_input_text;
use super::loaders::RequestScope;
use super::mutation::Mutation;
use super::operation::{operation_name, select_operation};
use super::parse_cache::ParsedDocuments;
use super::prices::Prices;
use super::query::Query;
use super::response_order::ResponseOrder;
use super::subscription::SubscriptionRoot;
use crate::config::{RequestLimits, ScoringConfig, WebhookConfig};
use crate::error::code;
use crate::pipeline::Pipeline;
use crate::service::reference_cache::ReferenceCache;
use crate::service::score_cache::ScoreCache;

/// The served schema, behind the per-request work described above.
#[derive(Clone)]
pub struct AppSchema {
    schema: Schema<Query, Mutation, SubscriptionRoot>,
    /// The same types with the budget extension, which only validates, prices and charges a
    /// request; none when budgets are off.
    pricing: Option<Schema<Query, Mutation, SubscriptionRoot>>,
    /// What requests seen before cost, so a repeated one is charged without the pricing pass.
    prices: Prices,
    db: DatabaseConnection,
    score_cache: Arc<ScoreCache>,
    reference_cache: Arc<ReferenceCache>,
    documents: ParsedDocuments,
    budgets: Option<CostBudgets>,
}

/// The schema's types, without data or limits.
fn schema_builder() -> SchemaBuilder<Query, Mutation, SubscriptionRoot> {
    Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
}

/// The served schema with its data and limits attached.
pub fn build_schema(
    db: DatabaseConnection,
    pipeline: Pipeline,
    scoring: ScoringConfig,
    webhooks: WebhookConfig,
    collector: crate::collector::Collector,
    limits: &RequestLimits,
    cost: CostConfig,
) -> AppSchema {
    let score_cache = pipeline.score_cache().clone();
    let reference_cache = pipeline.reference_cache().clone();
    let budgets = cost.enabled().then(|| CostBudgets::new(cost));
    let mut builder = schema_builder();
    if let Some(budgets) = &budgets {
        // Subscriptions charge their events to the caller as they are sent.
        builder = builder.data(budgets.clone());
    }
    let schema = builder
        .data(db.clone())
        .data(pipeline)
        .data(scoring)
        .data(webhooks)
        .data(collector)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish();
    let pricing = budgets.as_ref().map(|budgets| {
        schema_builder()
            .extension(CostBudgetExtension(budgets.clone()))
            .limit_depth(limits.max_depth)
            .limit_complexity(limits.max_complexity)
            .finish()
    });
    AppSchema {
        schema,
        pricing,
        prices: Prices::default(),
        db,
        score_cache,
        reference_cache,
        documents: ParsedDocuments::new(limits.max_fields),
        budgets,
    }
}

/// The schema in SDL, sorted, as checked in at `schema.graphql`.
pub fn schema_sdl() -> String {
    schema_builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}

/// What became of one request.
pub struct Executed {
    /// The response, fields in the query's order.
    pub response: Response,
    /// The operation's name, sent or taken from the document (see `operation::operation_name`).
    pub operation_name: Option<String>,
    /// What the request became, decided once from its errors.
    pub outcome: Outcome,
}

impl Executed {
    /// A request refused before it ran, with the name the client sent.
    pub fn refused(error: ServerError, operation_name: Option<String>) -> Executed {
        let response = Response::from_errors(vec![error]);
        Executed {
            outcome: Outcome::of(&response),
            response,
            operation_name,
        }
    }

    /// The code metrics count the request under: its first error's, or `OK`.
    pub fn code(&self) -> String {
        match self.response.errors.first() {
            None => "OK".to_owned(),
            Some(error) => match extension(error, "code") {
                Some(async_graphql::Value::String(code)) => code.clone(),
                _ => code::BAD_USER_INPUT.to_owned(),
            },
        }
    }
}

/// What a request became, which GraphQL over HTTP answers each in its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Refused by the caller's budget before it ran: come back after this many seconds.
    Throttled {
        /// Seconds until the budget holds the request's cost.
        retry_after: u64,
    },
    /// Failed as a request (syntax, limits, validation): the operation never ran.
    Refused,
    /// It ran, but the database did not answer one of its fields.
    Unavailable,
    /// It ran; some fields may have failed on their own.
    Ran,
}

impl Outcome {
    /// Decides from a response: async-graphql answers a request it refused (validation,
    /// depth, complexity, an unknown operation) with no data and errors without a path, while
    /// every error a field raises carries the field's path; the budget's refusal says
    /// `RATE_LIMITED`, and a field the database did not answer says `unavailable`.
    pub fn of(response: &Response) -> Outcome {
        let throttled = response.errors.iter().find(|error| {
            extension(error, "code") == Some(&async_graphql::Value::from(code::RATE_LIMITED))
        });
        if let Some(error) = throttled {
            let retry_after = match extension(error, "retryAfter") {
                Some(async_graphql::Value::Number(seconds)) => seconds.as_u64().unwrap_or(1),
                _ => 1,
            };
            return Outcome::Throttled { retry_after };
        }
        let refused = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|error| error.path.is_empty());
        if refused {
            Outcome::Refused
        } else if response
            .errors
            .iter()
            .any(|error| extension(error, "unavailable") == Some(&async_graphql::Value::from(true)))
        {
            Outcome::Unavailable
        } else {
            Outcome::Ran
        }
    }
}

/// One extension of an error, if it has it.
fn extension<'a>(error: &'a ServerError, name: &str) -> Option<&'a async_graphql::Value> {
    error
        .extensions
        .as_ref()
        .and_then(|values| values.get(name))
}

/// A request prepared once: parsed within the field limit, its strings checked, its operation
/// selected and named, and its response's order planned. Every later step reads it.
pub struct PreparedRequest {
    request: Request,
    /// The caller's budget account, when budgets are on.
    account: Option<CostAccount>,
    name: Option<String>,
    is_mutation: bool,
    order: Option<ResponseOrder>,
}

impl PreparedRequest {
    /// The operation's name, for logs and metrics.
    pub fn operation_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// True when the selected operation is a mutation (refused over GET).
    pub fn is_mutation(&self) -> bool {
        self.is_mutation
    }
}

impl AppSchema {
    /// The callers' query-cost budgets; none when budgets are off.
    pub fn budgets(&self) -> Option<&CostBudgets> {
        self.budgets.as_ref()
    }

    /// Prepares `request` (see [`PreparedRequest`]); a refusal is a request error.
    pub fn prepare(&self, mut request: Request) -> Result<PreparedRequest, ServerError> {
        let document = self.documents.parse(&request.query)?;
        check_input_text(&document, &request.variables)?;
        let sent_name = request.operation_name.as_deref();
        let selected = select_operation(&document, sent_name);
        let name = operation_name(selected.as_ref(), sent_name);
        let is_mutation = selected
            .as_ref()
            .is_some_and(|s| s.definition.ty == OperationType::Mutation);
        let order = selected
            .as_ref()
            .map(|s| ResponseOrder::plan(&document, &s.definition.selection_set.node));
        request.set_parsed_query(document);
        let account = request
            .data
            .get(&std::any::TypeId::of::<CostAccount>())
            .and_then(|data| data.downcast_ref::<CostAccount>())
            .cloned();
        Ok(PreparedRequest {
            request,
            account,
            name,
            is_mutation,
            order,
        })
    }

    /// Gives a prepared request its scope of reads; answers it and the scope.
    fn with_scope(&self, prepared: PreparedRequest) -> (PreparedRequest, Arc<RequestScope>) {
        let scope = Arc::new(RequestScope::new(
            &self.db,
            &self.score_cache,
            &self.reference_cache,
        ));
        let request = prepared.request.data(scope.clone());
        (
            PreparedRequest {
                request,
                ..prepared
            },
            scope,
        )
    }

    /// Charges the request's caller what it costs: the price kept from an earlier identical
    /// request, or as the pricing schema's validation works it out (the served schema has no
    /// extension). Answers the refusal (throttled, too costly, or invalid and charged 1) when
    /// it was not paid. Requests without an account, and all when budgets are off, pass free.
    async fn charge(&self, prepared: &mut PreparedRequest) -> Result<(), Response> {
        let (Some(pricing), Some(budgets), Some(account)) =
            (&self.pricing, &self.budgets, &prepared.account)
        else {
            return Ok(());
        };
        let key = Prices::key(&prepared.request);
        if let Some(price) = self.prices.get(&key) {
            return account.pay(budgets, price).map_err(Response::from_errors);
        }
        let document = prepared
            .request
            .parsed_query()
            .map_err(|error| Response::from_errors(vec![error]))?
            .clone();
        let mut priced = Request::new(prepared.request.query.clone())
            .variables(prepared.request.variables.clone())
            .data(account.clone());
        priced.operation_name = prepared.request.operation_name.clone();
        priced.set_parsed_query(document);
        let answer = pricing.execute(priced).await;
        if was_paid(&answer) {
            self.prices.keep(key, account.requested_cost());
            Ok(())
        } else {
            Err(answer)
        }
    }

    /// Charges one prepared query or mutation, then runs it with fresh loaders.
    pub async fn run(&self, mut prepared: PreparedRequest) -> Executed {
        if let Err(refused) = self.charge(&mut prepared).await {
            return Executed {
                outcome: Outcome::of(&refused),
                response: refused,
                operation_name: prepared.name,
            };
        }
        let (prepared, _scope) = self.with_scope(prepared);
        let mut response = self.schema.execute(prepared.request).await;
        if let Some(order) = &prepared.order {
            order.apply(&mut response.data);
        }
        Executed {
            outcome: Outcome::of(&response),
            response,
            operation_name: prepared.name,
        }
    }
}

impl Executor for AppSchema {
    async fn execute(&self, request: Request) -> Response {
        match self.prepare(request) {
            Ok(prepared) => self.run(prepared).await.response,
            Err(error) => Response::from_errors(vec![error]),
        }
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let mut prepared = match self.prepare(request) {
            Ok(prepared) => prepared,
            Err(error) => {
                return stream::once(async { Response::from_errors(vec![error]) }).boxed();
            }
        };
        if prepared.account.is_none() {
            prepared.account = session_data.as_ref().and_then(|data| {
                data.get(&std::any::TypeId::of::<CostAccount>())
                    .and_then(|data| data.downcast_ref::<CostAccount>())
                    .cloned()
            });
        }
        let schema = self.clone();
        stream::once(async move {
            // The subscribe message pays once, before its first event.
            match schema.charge(&mut prepared).await {
                Ok(()) => schema.events(prepared, session_data),
                Err(refused) => stream::once(async { refused }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

impl AppSchema {
    /// A paid subscription's events, each in the query's order with its reads afresh.
    fn events(
        &self,
        prepared: PreparedRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let (PreparedRequest { request, order, .. }, scope) = self.with_scope(prepared);
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |mut response| {
                if let Some(order) = &order {
                    order.apply(&mut response.data);
                }
                // Each event of a long-lived subscription reads afresh (its tenant, its plans,
                // everything), and the caches stay small.
                scope.renew();
                response
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, ServerError, Value};

    use super::*;

    #[test]
    fn only_errors_without_a_path_and_no_data_mean_the_operation_never_ran() {
        let refused = Response::from_errors(vec![ServerError::new("unknown field", None)]);
        assert_eq!(Outcome::of(&refused), Outcome::Refused);
        let mut failed_field = ServerError::new("a field failed", None);
        failed_field.path = vec![PathSegment::Field("tenant".into())];
        assert_eq!(
            Outcome::of(&Response::from_errors(vec![failed_field])),
            Outcome::Ran
        );
        assert_eq!(
            Outcome::of(&Response::new(
                Value::from_json(serde_json::json!({"a": 1})).unwrap()
            )),
            Outcome::Ran
        );
        assert_eq!(Outcome::of(&Response::new(Value::Null)), Outcome::Ran);
    }

    #[test]
    fn the_budgets_refusal_and_an_unanswered_database_are_told_apart_from_other_errors() {
        let with = |code: &str, extra: Option<(&str, Value)>, path: bool| {
            let mut error = ServerError::new("refused", None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", code);
            if let Some((name, value)) = extra {
                extensions.set(name, value);
            }
            error.extensions = Some(extensions);
            if path {
                error.path = vec![PathSegment::Field("tenant".into())];
            }
            error
        };
        let throttled = Executed::refused(
            with(
                code::RATE_LIMITED,
                Some(("retryAfter", Value::from(7))),
                false,
            ),
            None,
        );
        assert_eq!(throttled.outcome, Outcome::Throttled { retry_after: 7 });
        assert_eq!(throttled.code(), code::RATE_LIMITED);
        let unavailable = Response::from_errors(vec![with(
            code::INTERNAL,
            Some(("unavailable", Value::from(true))),
            true,
        )]);
        assert_eq!(Outcome::of(&unavailable), Outcome::Unavailable);
        let internal = Response::from_errors(vec![with(code::INTERNAL, None, true)]);
        assert_eq!(Outcome::of(&internal), Outcome::Ran);
        let uncoded = Executed::refused(ServerError::new("syntax", None), None);
        assert_eq!(uncoded.code(), code::BAD_USER_INPUT);
    }
}
