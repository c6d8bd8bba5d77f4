/* /api/docs/: starts Swagger UI (templates/drf_spectacular/swagger_ui.html).
 *
 * drf-spectacular's own start-up script (drf_spectacular/swagger_ui.js, 0.30), which the package renders
 * inline into the page; here it is a file, so that the strict Content-Security-Policy (script-src 'self')
 * allows it, and it reads what the view rendered into it from the data- attributes of #swagger-ui.
 * SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] must therefore be JSON (a dict), not a JavaScript string.
 * The API is read-only, so the package's CSRF header on non-GET requests is left out.
 */
"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  const config = root.dataset;
  const swaggerSettings = JSON.parse(config.settings || "{}");
  const oauth2Config = JSON.parse(config.oauth2Config || "{}");
  const schemaAuthNames = JSON.parse(config.schemaAuthNames || "[]");
  let schemaAuthFailed = false;
  let ui;
  const plugins = [];

  const reloadSchema = (ori) => (...args) => {
    schemaAuthFailed = false;
    setTimeout(() => ui.specActions.download());
    return ori(...args);
  };
  const reloadSchemaOnAuthChange = () => ({
    statePlugins: {
      auth: {
        wrapActions: { authorizeOauth2: reloadSchema, authorize: reloadSchema, logout: reloadSchema },
      },
    },
  });
  if (schemaAuthNames.length > 0) {
    plugins.push(reloadSchemaOnAuthChange);
  }

  const isSchemaUrl = (url) => ui !== undefined && url === new URL(ui.getConfigs().url, document.baseURI).href;

  const responseInterceptor = (response) => {
    if (!response.ok && isSchemaUrl(response.url)) {
      console.warn(`schema request received '${response.status}'. disabling credentials for schema till logout.`);
      if (!schemaAuthFailed) {
        // only retry once to prevent endless loop.
        schemaAuthFailed = true;
        setTimeout(() => ui.specActions.download());
      }
    }
    return response;
  };

  const injectAuthCredentials = (request) => {
    let authorized;
    if (ui !== undefined) {
      const state = ui.getState().get("auth").get("authorized");
      if (state !== undefined && Object.keys(state.toJS()).length !== 0) {
        authorized = state.toJS();
      }
    } else if (![undefined, "{}"].includes(localStorage.authorized)) {
      authorized = JSON.parse(localStorage.authorized);
    }
    if (authorized === undefined) {
      return;
    }
    for (const authName of schemaAuthNames) {
      const authDef = authorized[authName];
      if (authDef === undefined || authDef.schema === undefined) {
        continue;
      }
      const schema = authDef.schema;
      if (schema.type === "http" && schema.scheme === "bearer") {
        request.headers.Authorization = `Bearer ${authDef.value}`;
        return;
      } else if (schema.type === "http" && schema.scheme === "basic") {
        request.headers.Authorization = `Basic ${btoa(`${authDef.value.username}:${authDef.value.password}`)}`;
        return;
      } else if (schema.type === "apiKey" && schema.in === "header") {
        request.headers[schema.name] = authDef.value;
        return;
      } else if (schema.type === "oauth2" && authDef.token.token_type === "Bearer") {
        request.headers.Authorization = `Bearer ${authDef.token.access_token}`;
        return;
      }
    }
  };

  const requestInterceptor = (request) => {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      try {
        injectAuthCredentials(request);
      } catch (e) {
        console.error("schema auth injection failed with error: ", e);
      }
    }
    return request;
  };

  ui = SwaggerUIBundle({
    url: config.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins,
    layout: "BaseLayout",
    requestInterceptor,
    responseInterceptor,
    ...swaggerSettings,
  });

  if (Object.keys(oauth2Config).length > 0) {
    ui.initOAuth(oauth2Config);
  }
})();
