// What the live page says itself, in the page's language (the engine's own messages come in its events).
import { config } from "../bridge.js";

const TEXT = {
  en: {
    loading: "AI Loading",
    checking: "Checking your plan and access…",
    camera: "Starting the camera…",
    model: "Loading the pose model…",
    waitingServer: "Waiting for the server…",
    camera_permission_denied: "Camera access was refused. Allow the camera for this app, then reload.",
    camera_insecure: "The camera only works on a secure (https) page.",
    camera_not_found: "No camera was found on this device.",
    camera_busy: "The camera is in use by another app. Close it, then reload.",
    reconnecting: "Connection lost: reconnecting…",
    connection_lost: "The connection to the tracking server was lost. Reload to start again.",
    finished: "Session finished",
    reps: "reps",
    grade: "Last rep",
  },
  fr: {
    loading: "Chargement de l'IA",
    checking: "Vérification de votre offre et de l'accès…",
    camera: "Démarrage de la caméra…",
    model: "Chargement du modèle de pose…",
    waitingServer: "En attente du serveur…",
    camera_permission_denied: "L'accès à la caméra a été refusé. Autorisez la caméra pour cette application, puis rechargez.",
    camera_insecure: "La caméra ne fonctionne que sur une page sécurisée (https).",
    camera_not_found: "Aucune caméra n'a été trouvée sur cet appareil.",
    camera_busy: "La caméra est utilisée par une autre application. Fermez-la, puis rechargez.",
    reconnecting: "Connexion perdue : reconnexion…",
    connection_lost: "La connexion au serveur de suivi a été perdue. Rechargez pour recommencer.",
    finished: "Séance terminée",
    reps: "répétitions",
    grade: "Dernière rép.",
  },
};
export const text = TEXT[(config.params || {}).language] || TEXT.en;
