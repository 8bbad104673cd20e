//! The administration pages (SPEC §7): `/admin/users` (create, change role, disable or enable,
//! reset password) and `/admin/tokens` (create, shown once; revoke; when last used), and the
//! server functions behind them. Only admins reach them: `/admin/*` and these functions are
//! admin-only in [`crate::auth::access`].
//!
//! Passwords and token secrets never travel back in a form's outcome except the one moment a
//! new token is shown; without JavaScript that outcome is read once
//! ([`crate::ui::finish_form_once`]).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::auth::role_words;
use crate::auth::{ApiToken, Role, User};
use crate::error::AppError;
use crate::ui::{
    form_action, outcome_view, stored_outcome_of, ErrorPanel, Outcome, WarehouseTimes,
};

const USERS_PAGE: &str = "/admin/users";
const TOKENS_PAGE: &str = "/admin/tokens";
/// The `ref` a no-JavaScript result of each form comes back under, so each form on a page finds
/// its own.
const NEW: &str = "new";
const CHANGE: &str = "change";

/// The new-user form as sent (never the password).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewUserForm {
    pub username: String,
    pub role: String,
    #[serde(default)]
    pub warehouses: String,
}

/// One change to a user as sent: `change` is `role`, `disable`, `enable` or `password` (never
/// the password itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserChangeForm {
    pub username: String,
    pub change: String,
    pub role: String,
}

/// The new-token form as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewTokenForm {
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub warehouses: String,
}

/// The warehouse codes a form's `warehouses` field lists (apart by commas or spaces; none:
/// every warehouse).
#[cfg(feature = "ssr")]
fn warehouse_codes(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|code| !code.is_empty())
        .map(str::to_string)
        .collect()
}

/// A new token and its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// The token a revoke form names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RevokeForm {
    pub name: String,
}

#[cfg(feature = "ssr")]
fn parse_role(text: &str) -> Result<Role, AppError> {
    Role::from_name(text.trim()).ok_or_else(|| {
        AppError::validation(
            "role",
            tr!(
                errors.value.one_of,
                values = Role::ALL.map(role_words).join(" / ")
            ),
        )
    })
}

/// Every user, by name, with when each was created in the warehouse's time.
#[server(endpoint = "list_users")]
pub async fn list_users_page() -> Result<(Vec<User>, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let users = crate::auth::service::list_users(&state.db).await?;
    let times = WarehouseTimes::of(users.iter().map(|u| Some(&u.created_at)));
    Ok((users, times))
}

/// Creates a user from the page's form.
#[server(endpoint = "create_user")]
pub async fn create_user_form(
    username: String,
    role: String,
    password: String,
    #[server(default)] warehouses: String,
) -> Result<Outcome<NewUserForm, User>, AppError> {
    use crate::auth::password::Password;
    use crate::auth::service::{create_user_in, parse_username};
    let state = crate::state::app_state()?;
    let result = async {
        parse_username("username", &username)?;
        let role = parse_role(&role)?;
        let password = Password::parse("password", &password)?;
        let codes = warehouse_codes(&warehouses);
        create_user_in(&state.db, &username, role, &password, &codes).await
    }
    .await;
    let form = NewUserForm {
        username,
        role,
        warehouses,
    };
    Ok(crate::ui::finish_form(USERS_PAGE, NEW, form, result).await)
}

/// Changes a user's role, disables or enables them, or sets a new password; disabling and a new
/// password end their sessions; the last enabled admin stays one.
#[server(endpoint = "change_user")]
pub async fn change_user_form(
    username: String,
    change: String,
    role: String,
    password: String,
) -> Result<Outcome<UserChangeForm, User>, AppError> {
    use crate::auth::password::Password;
    use crate::auth::service::{change_user, UserChange};
    let state = crate::state::app_state()?;
    let result = async {
        let what = match change.as_str() {
            "role" => UserChange::Role(parse_role(&role)?),
            "disable" => UserChange::Disabled(true),
            "enable" => UserChange::Disabled(false),
            "password" => UserChange::PasswordHash(Password::parse("password", &password)?.hash()?),
            _ => {
                return Err(AppError::validation(
                    "change",
                    tr!(
                        errors.value.one_of,
                        values = "role, disable, enable, password"
                    ),
                ))
            }
        };
        change_user(&state.db, &username, what).await
    }
    .await;
    let form = UserChangeForm {
        username,
        change,
        role,
    };
    Ok(crate::ui::finish_form(USERS_PAGE, CHANGE, form, result).await)
}

/// Every token, by name, revoked ones included; with, for each, when it was created, last used
/// and revoked, in the warehouse's time (three moments per token).
#[server(endpoint = "list_tokens")]
pub async fn list_tokens_page() -> Result<(Vec<ApiToken>, WarehouseTimes), AppError> {
    let state = crate::state::app_state()?;
    let tokens = crate::auth::service::list_tokens(&state.db).await?;
    let times = WarehouseTimes::of(tokens.iter().flat_map(|t| {
        [
            Some(&t.created_at),
            t.last_used_at.as_ref(),
            t.revoked_at.as_ref(),
        ]
    }));
    Ok((tokens, times))
}

/// Creates a token from the page's form; its secret is in the answer this once.
#[server(endpoint = "create_token")]
pub async fn create_token_form(
    name: String,
    role: String,
    #[server(default)] warehouses: String,
) -> Result<Outcome<NewTokenForm, CreatedToken>, AppError> {
    let state = crate::state::app_state()?;
    let result = async {
        let role = parse_role(&role)?;
        let codes = warehouse_codes(&warehouses);
        let (token, secret) =
            crate::auth::service::create_token_in(&state.db, &name, role, &codes).await?;
        Ok(CreatedToken { token, secret })
    }
    .await;
    let form = NewTokenForm {
        name,
        role,
        warehouses,
    };
    Ok(crate::ui::finish_form_once(TOKENS_PAGE, NEW, form, result).await)
}

/// Revokes a token: its next request is refused.
#[server(endpoint = "revoke_token")]
pub async fn revoke_token_form(name: String) -> Result<Outcome<RevokeForm, ApiToken>, AppError> {
    let state = crate::state::app_state()?;
    let now = state.config.clock.now();
    let result = crate::auth::service::revoke_token(&state.db, &name, now).await;
    Ok(crate::ui::finish_form(TOKENS_PAGE, CHANGE, RevokeForm { name }, result).await)
}

/// The node ref for a create form that starts blank after a success (a password above all is
/// never left in it); after a refusal it keeps what was typed, to correct it.
fn blank_after_success<S, F, R>(action: ServerAction<S>) -> NodeRef<leptos::html::Form>
where
    S: leptos::server_fn::ServerFn<Output = Outcome<F, R>> + Clone + Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
    F: Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        let made = action
            .value()
            .with(|v| matches!(v, Some(Ok(o)) if o.result.is_ok()));
        if made {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    form
}

/// The role picker: every role, in words, `selected` chosen.
#[component]
fn RoleSelect(id: String, selected: Role) -> impl IntoView {
    view! {
        <select id=id name="role">
            {Role::ALL
                .into_iter()
                .map(|role| view! {
                    <option value=role.as_str() selected=role == selected>{role_words(role)}</option>
                })
                .collect_view()}
        </select>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = form_action::<CreateUserForm>();
    let change = form_action::<ChangeUserForm>();
    let users = Resource::new(
        move || (create.version().get(), change.version().get()),
        |_| list_users_page(),
    );
    let stored_new = stored_outcome_of::<NewUserForm, User>(USERS_PAGE, Some(NEW));
    let new_form = blank_after_success(create);
    let stored_change = stored_outcome_of::<UserChangeForm, User>(USERS_PAGE, Some(CHANGE));

    view! {
        <Title text=tr!(admin.users_title)/>
        <h1>{tr!(admin.users_title)}</h1>
        <section class="card" aria-labelledby="new-user">
            <h2 id="new-user">{tr!(admin.new_user)}</h2>
            <Transition fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || stored_new.get().map(|stored| {
                let sent = stored.clone().refused_form();
                let role = Role::from_name(&sent.role).unwrap_or(Role::Clerk);
                view! {
                    <ActionForm action=create node_ref=new_form>
                        <div class="grid-form">
                        <div>
                            <label for="user-username">{tr!(auth.username)}</label>
                            <input id="user-username" name="username" required maxlength="64"
                                autocomplete="off" autocapitalize="none" value=sent.username/>
                        </div>
                        <div>
                            <label for="user-role">{tr!(admin.role)}</label>
                            <RoleSelect id="user-role".to_string() selected=role/>
                        </div>
                        <div>
                            <label for="user-warehouses">{tr!(admin.warehouses)}</label>
                            <input id="user-warehouses" name="warehouses" maxlength="200" autocomplete="off"
                                placeholder=tr!(admin.warehouses_hint) value=sent.warehouses.clone()/>
                        </div>
                        <div>
                            <label for="user-password">{tr!(auth.password)}</label>
                            <input id="user-password" name="password" type="password" required
                                minlength="8" maxlength="128" autocomplete="new-password"
                                placeholder=tr!(auth.password_hint)/>
                        </div>
                        <div class="form-actions">
                            <button type="submit" disabled=move || create.pending().get()>{tr!(admin.create_user)}</button>
                        </div>
                        </div>
                    </ActionForm>
                    {move || outcome_view(create.value().get(), stored.clone(), NewUserForm::default, |o| view! { <NewUserResult outcome=o/> }.into_any())}
                }
            })}
            </Transition>
        </section>

        <section aria-labelledby="user-list">
            <h2 id="user-list">{tr!(admin.user_list)}</h2>
            <Transition fallback=|| ()>
                {move || stored_change.get().map(|stored| {
                    outcome_view(change.value().get(), stored, UserChangeForm::default, |o| view! { <UserChangeResult outcome=o/> }.into_any())
                })}
            </Transition>
            <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
                {move || users.get().map(|result| match result {
                    Ok((users, times)) => view! {
                        <ul class="admin-list">
                            {users.into_iter().enumerate().map(|(i, user)| {
                                let created = times.at(i);
                                view! { <UserCard user created change/> }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// One user: name, role, state, and the forms that change them (folded away until asked for).
#[component]
fn UserCard(user: User, created: String, change: ServerAction<ChangeUserForm>) -> impl IntoView {
    let id = user.id;
    let (role_name, password_name, toggle_name) = (
        user.username.clone(),
        user.username.clone(),
        user.username.clone(),
    );
    let (toggle, toggle_label) = if user.disabled {
        ("enable", tr!(admin.enable))
    } else {
        ("disable", tr!(admin.disable))
    };
    view! {
        <li class="card admin-entry" data-user=user.username.clone()>
            <div class="admin-entry-head">
                <strong class="admin-name">{user.username.clone()}</strong>
                <span class="badge" data-role=user.role.as_str()>{role_words(user.role)}</span>
                {user.disabled.then(|| view! {
                    <span class="badge badge-off" data-state="disabled">{tr!(admin.disabled)}</span>
                })}
                <span class="muted">{tr!(admin.since, date = created)}</span>
            </div>
            <details>
                <summary>{tr!(admin.manage, name = user.username.clone())}</summary>
                <div class="admin-forms">
                    <ActionForm action=change attr:class="inline-form">
                        <input type="hidden" name="username" value=role_name.clone()/>
                        <input type="hidden" name="change" value="role"/>
                        <input type="hidden" name="password" value=""/>
                        <label for=format!("role-{id}")>{tr!(admin.role)}</label>
                        <RoleSelect id=format!("role-{id}") selected=user.role/>
                        <button type="submit" disabled=move || change.pending().get()>{tr!(admin.change_role)}</button>
                    </ActionForm>
                    <ActionForm action=change attr:class="inline-form">
                        <input type="hidden" name="username" value=password_name.clone()/>
                        <input type="hidden" name="change" value="password"/>
                        <input type="hidden" name="role" value=""/>
                        <label for=format!("password-{id}")>{tr!(admin.new_password)}</label>
                        <input id=format!("password-{id}") name="password" type="password" required
                            minlength="8" maxlength="128" autocomplete="new-password"
                            placeholder=tr!(auth.password_hint)/>
                        <button type="submit" disabled=move || change.pending().get()>{tr!(admin.reset_password)}</button>
                    </ActionForm>
                    <ActionForm action=change attr:class="inline-form">
                        <input type="hidden" name="username" value=toggle_name.clone()/>
                        <input type="hidden" name="change" value=toggle/>
                        <input type="hidden" name="role" value=""/>
                        <input type="hidden" name="password" value=""/>
                        <button type="submit" class=if user.disabled { "" } else { "danger" }
                            disabled=move || change.pending().get()>{toggle_label}</button>
                    </ActionForm>
                </div>
            </details>
        </li>
    }
}

#[component]
fn NewUserResult(outcome: Outcome<NewUserForm, User>) -> impl IntoView {
    match outcome.result {
        Ok(user) => view! {
            <p class="success" role="status">
                {tr!(admin.user_created, name = user.username, role = role_words(user.role))}
            </p>
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}

#[component]
fn UserChangeResult(outcome: Outcome<UserChangeForm, User>) -> impl IntoView {
    match outcome.result {
        Ok(user) => {
            let name = user.username.clone();
            let message = match outcome.form.change.as_str() {
                "role" => tr!(
                    admin.role_changed,
                    name = name,
                    role = role_words(user.role)
                ),
                "disable" => tr!(admin.user_disabled, name = name),
                "enable" => tr!(admin.user_enabled, name = name),
                _ => tr!(admin.password_reset, name = name),
            };
            view! { <p class="success" role="status">{message}</p> }.into_any()
        }
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = form_action::<CreateTokenForm>();
    let revoke = form_action::<RevokeTokenForm>();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens_page(),
    );
    let stored_new = stored_outcome_of::<NewTokenForm, CreatedToken>(TOKENS_PAGE, Some(NEW));
    let new_form = blank_after_success(create);
    let stored_revoke = stored_outcome_of::<RevokeForm, ApiToken>(TOKENS_PAGE, Some(CHANGE));

    view! {
        <Title text=tr!(admin.tokens_title)/>
        <h1>{tr!(admin.tokens_title)}</h1>
        <p class="lead">{tr!(admin.tokens_lead)}</p>
        <section class="card" aria-labelledby="new-token">
            <h2 id="new-token">{tr!(admin.new_token)}</h2>
            <Transition fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
            {move || stored_new.get().map(|stored| {
                let sent = stored.clone().refused_form();
                let role = Role::from_name(&sent.role).unwrap_or(Role::Clerk);
                view! {
                    <ActionForm action=create node_ref=new_form>
                        <div class="grid-form">
                        <div>
                            <label for="token-name">{tr!(admin.token_name)}</label>
                            <input id="token-name" name="name" required maxlength="64" autocomplete="off"
                                placeholder=tr!(admin.token_name_placeholder) value=sent.name/>
                        </div>
                        <div>
                            <label for="token-role">{tr!(admin.role)}</label>
                            <RoleSelect id="token-role".to_string() selected=role/>
                        </div>
                        <div>
                            <label for="token-warehouses">{tr!(admin.warehouses)}</label>
                            <input id="token-warehouses" name="warehouses" maxlength="200" autocomplete="off"
                                placeholder=tr!(admin.warehouses_hint) value=sent.warehouses.clone()/>
                        </div>
                        <div class="form-actions">
                            <button type="submit" disabled=move || create.pending().get()>{tr!(admin.create_token)}</button>
                        </div>
                        </div>
                    </ActionForm>
                    {move || outcome_view(create.value().get(), stored.clone(), NewTokenForm::default, |o| view! { <NewTokenResult outcome=o/> }.into_any())}
                }
            })}
            </Transition>
        </section>

        <section aria-labelledby="token-list">
            <h2 id="token-list">{tr!(admin.token_list)}</h2>
            <Transition fallback=|| ()>
                {move || stored_revoke.get().map(|stored| {
                    outcome_view(revoke.value().get(), stored, RevokeForm::default, |o| view! { <RevokeResult outcome=o/> }.into_any())
                })}
            </Transition>
            <Suspense fallback=|| view! { <p class="muted">{tr!(common.loading)}</p> }>
                {move || tokens.get().map(|result| match result {
                    Ok((tokens, _)) if tokens.is_empty() => view! {
                        <p class="empty">{tr!(admin.no_tokens)}</p>
                    }.into_any(),
                    Ok((tokens, times)) => view! {
                        <div class="table-wrap">
                            <table class="tokens cards">
                                <thead><tr>
                                    <th>{tr!(admin.token_name)}</th>
                                    <th>{tr!(admin.role)}</th>
                                    <th>{tr!(admin.created_in, zone = times.zone.clone())}</th>
                                    <th>{tr!(admin.last_used_in, zone = times.zone.clone())}</th>
                                    <th>{tr!(admin.state)}</th>
                                </tr></thead>
                                <tbody>
                                    {tokens.into_iter().enumerate().map(|(i, token)| {
                                        let moments = [times.at(3 * i), times.at(3 * i + 1), times.at(3 * i + 2)];
                                        let zone = times.zone.clone();
                                        view! { <TokenRow token moments zone revoke/> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TokenRow(
    token: ApiToken,
    /// When it was created, last used and revoked ("" for never), in the warehouse's time.
    moments: [String; 3],
    /// The warehouse zone's offset, for the moments' labels.
    zone: String,
    revoke: ServerAction<RevokeTokenForm>,
) -> impl IntoView {
    let labels = [
        tr!(admin.created_in, zone = zone.clone()),
        tr!(admin.last_used_in, zone = zone),
    ];
    let [created, last_used, revoked] = moments;
    let state = match &token.revoked_at {
        Some(_) => view! {
            <span class="badge badge-off" data-state="revoked">{tr!(admin.revoked_at, date = revoked)}</span>
        }
        .into_any(),
        None => {
            let name = token.name.clone();
            view! {
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="name" value=name.clone()/>
                    <button type="submit" class="danger" disabled=move || revoke.pending().get()
                        aria-label=tr!(admin.revoke_named, name = name.clone())>
                        {tr!(admin.revoke)}
                    </button>
                </ActionForm>
            }
            .into_any()
        }
    };
    view! {
        <tr data-token=token.name.clone()>
            <td data-label=tr!(admin.token_name)>{token.name.clone()}</td>
            <td data-label=tr!(admin.role) data-role=token.role.as_str()>{role_words(token.role)}</td>
            <td data-label=labels[0].clone()>{created}</td>
            <td data-label=labels[1].clone()>{if last_used.is_empty() { tr!(admin.never) } else { last_used }}</td>
            <td data-label=tr!(admin.state)>{state}</td>
        </tr>
    }
}

#[component]
fn NewTokenResult(outcome: Outcome<NewTokenForm, CreatedToken>) -> impl IntoView {
    match outcome.result {
        Ok(created) => view! {
            <div class="success token-secret" role="status">
                <p>{tr!(admin.token_created, name = created.token.name, role = role_words(created.token.role))}</p>
                <code class="secret" data-secret="">{created.secret}</code>
                <p class="muted">{tr!(admin.token_usage)}</p>
            </div>
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}

#[component]
fn RevokeResult(outcome: Outcome<RevokeForm, ApiToken>) -> impl IntoView {
    match outcome.result {
        Ok(token) => view! {
            <p class="success" role="status">{tr!(admin.token_revoked, name = token.name)}</p>
        }
        .into_any(),
        Err(error) => view! { <ErrorPanel error/> }.into_any(),
    }
}
