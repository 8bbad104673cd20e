//! The sign-in and first-start pages (SPEC §7): plain forms posting to `/login` and `/setup`, so
//! they work the same with and without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.read_untracked().get("next").unwrap_or_default();
    // After a refusal the username stays, so only the password is typed again.
    let username = query.read_untracked().get("username").unwrap_or_default();
    // A code from the sign-in handler, shown in words (never text from the URL).
    let error = match query.read_untracked().get("error").as_deref() {
        Some("invalid") => Some(tr!(auth.error.invalid)),
        Some("throttled") => Some(tr!(auth.error.throttled)),
        _ => None,
    };
    view! {
        <Title text=tr!(auth.login_title)/>
        <h1>{tr!(auth.login_title)}</h1>
        <p class="lead">{tr!(auth.lead)}</p>
        {error.map(|message| view! { <div class="error" role="alert">{message}</div> })}
        <form method="post" action="/login" class="card sign-in">
            <input type="hidden" name="next" value=next/>
            <div>
                <label for="login-username">{tr!(auth.username)}</label>
                <input id="login-username" name="username" required maxlength="64" value=username
                    autocomplete="username" autocapitalize="none" autofocus/>
            </div>
            <div>
                <label for="login-password">{tr!(auth.password)}</label>
                <input id="login-password" name="password" type="password" required maxlength="128"
                    autocomplete="current-password"/>
            </div>
            <div class="form-actions">
                <button type="submit">{tr!(auth.sign_in)}</button>
            </div>
        </form>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("token").unwrap_or_default();
    // Which field the setup handler refused, in words (never text from the URL).
    let error = match query.read_untracked().get("error").as_deref() {
        Some("password") => Some(tr!(auth.setup_error.password)),
        Some("username") => Some(tr!(auth.setup_error.username)),
        _ => None,
    };
    view! {
        <Title text=tr!(auth.setup_title)/>
        <h1>{tr!(auth.setup_title)}</h1>
        <p class="lead">{tr!(auth.setup_lead)}</p>
        {error.map(|message| view! { <div class="error" role="alert">{message}</div> })}
        <form method="post" action="/setup" class="card sign-in">
            <input type="hidden" name="token" value=token/>
            <div>
                <label for="setup-username">{tr!(auth.username)}</label>
                <input id="setup-username" name="username" required maxlength="64"
                    autocomplete="username" autocapitalize="none" autofocus/>
            </div>
            <div>
                <label for="setup-password">{tr!(auth.password)}</label>
                <input id="setup-password" name="password" type="password" required minlength="8"
                    maxlength="128" autocomplete="new-password" placeholder=tr!(auth.password_hint)/>
            </div>
            <div class="form-actions">
                <button type="submit">{tr!(auth.setup_submit)}</button>
            </div>
        </form>
    }
}
